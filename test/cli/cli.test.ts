// The `raftplane` command line: in process through buildProgram(), from source
// in a child process (tsx), and through the real launcher bin/raftplane.js,
// which runs the compiled dist/ (built here if missing or older than the source).
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { type Command, CommanderError } from 'commander'
import { buildProgram, packageJson } from '../../src/cli/main.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string
}

interface Outcome {
  code: string
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs the program in process; commander's exits come back as an Outcome. */
async function runInProcess(args: string[]): Promise<Outcome> {
  let stdout = ''
  let stderr = ''
  const program = buildProgram()
  // Subcommands copy these settings only when created, so apply them to every one.
  const capture = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => void (stdout += s),
      writeErr: (s) => void (stderr += s),
    })
    for (const sub of cmd.commands) capture(sub)
  }
  capture(program)
  try {
    await program.parseAsync(args, { from: 'user' })
    return { code: 'ok', exitCode: 0, stdout, stderr }
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err
    return { code: err.code, exitCode: err.exitCode, stdout, stderr }
  }
}

function run(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 })
  if (r.error) throw r.error
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('in process', async (t) => {
  t.equal(packageJson().version, pkg.version, 'finds its own package.json')

  const version = await runInProcess(['--version'])
  t.match(version, { code: 'commander.version', exitCode: 0, stdout: `${pkg.version}\n` })

  const short = await runInProcess(['-V'])
  t.equal(short.stdout, `${pkg.version}\n`, '-V prints the version too')

  const help = await runInProcess(['--help'])
  t.match(help, { code: 'commander.helpDisplayed', exitCode: 0 })
  t.match(help.stdout, /^Usage: raftplane /)
  t.match(help.stdout, /--version/)

  const unknown = await runInProcess(['no-such-command'])
  t.match(unknown, { code: 'commander.unknownCommand', exitCode: 1, stdout: '' })
  t.match(unknown.stderr, /^error: unknown command 'no-such-command'/)

  const badOption = await runInProcess(['--no-such-option'])
  t.match(badOption, { code: 'commander.unknownOption', exitCode: 1 })
  t.match(badOption.stderr, /^error: unknown option '--no-such-option'/)

  const benchHelp = await runInProcess(['bench', 'raft', '--help'])
  t.match(benchHelp.stdout, /--concurrency <list>/, 'bench raft documents its flags')
  const badCount = await runInProcess(['bench', 'raft', '--concurrency', '1,x'])
  t.match(badCount, { code: 'commander.invalidArgument', exitCode: 1 })
  t.match(badCount.stderr, /'x' is not a positive integer/, 'a bad proposer count is refused before anything starts')

  const bare = await runInProcess([])
  t.match(bare, { exitCode: 1, stdout: '' }, 'no command: help, as an error')
  t.match(bare.stderr, /^Usage: raftplane /)
})

t.test('from source (tsx)', async (t) => {
  const cli = ['--import', 'tsx', 'src/cli/main.ts']

  const version = run([...cli, '--version'])
  t.same(version, { status: 0, stdout: `${pkg.version}\n`, stderr: '' })

  const help = run([...cli, '--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /^Usage: raftplane /)

  const unknown = run([...cli, 'no-such-command'])
  t.equal(unknown.status, 1)
  t.equal(unknown.stdout, '')
  t.match(unknown.stderr, /^error: unknown command 'no-such-command'/)

  // Refused before the master starts anything: no data dir, no ports.
  const dir = t.testdir({})
  const badController = run([...cli, 'master', '--insecure', '--data-dir', join(dir, 'm'), '--controllers', '*,-nope'])
  t.not(badController.status, 0)
  t.match(badController.stderr, /unknown controller "nope"; known: .*deployment|unknown controller "nope"; known: .*job/)
  t.notOk(existsSync(join(dir, 'm')), 'nothing was created')

  const badGrace = run([...cli, 'master', '--insecure', '--data-dir', join(dir, 'm'), '--node-monitor-grace-period', 'soon'])
  t.not(badGrace.status, 0)
  t.match(badGrace.stderr, /--node-monitor-grace-period: /)
  const badRate = run([...cli, 'master', '--insecure', '--data-dir', join(dir, 'm'), '--node-eviction-rate', '-1'])
  t.not(badRate.status, 0)
  t.match(badRate.stderr, /--node-eviction-rate: not a non-negative number: -1/)
  t.notOk(existsSync(join(dir, 'm')), 'nothing was created')
})

/** Newest modification time of the .ts files under dir (what tsconfig.build.json compiles). */
function newestSource(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

t.test('bin/raftplane.js runs the compiled CLI', async (t) => {
  const compiled = join(root, 'dist', 'src', 'cli', 'main.js')
  let builtAt = 0
  try {
    builtAt = statSync(compiled).mtimeMs
  } catch {
    // not built yet
  }
  const sources = ['src', 'bench'].map((d) => join(root, d)).filter((d) => existsSync(d))
  if (builtAt < Math.max(...sources.map(newestSource))) {
    // `npm ci` builds dist/ (the `prepare` script); rebuild a missing or stale one.
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const build = run([tsc, '-p', 'tsconfig.build.json'])
    t.equal(build.status, 0, 'npm run build', { output: build.stdout + build.stderr })
    if (build.status !== 0) return
  }

  const version = run(['bin/raftplane.js', '--version'])
  t.same(version, { status: 0, stdout: `${pkg.version}\n`, stderr: '' })

  const help = run(['bin/raftplane.js', '--help'])
  t.equal(help.status, 0)
  t.match(help.stdout, /^Usage: raftplane /)

  const unknown = run(['bin/raftplane.js', 'no-such-command'])
  t.equal(unknown.status, 1)
  t.match(unknown.stderr, /^error: unknown command 'no-such-command'/)
})

t.test('bin/raftplane.js without dist/ says to build', async (t) => {
  const dir = t.testdir({})
  mkdirSync(join(dir, 'bin'))
  copyFileSync(join(root, 'bin', 'raftplane.js'), join(dir, 'bin', 'raftplane.js'))
  const r = run([join(dir, 'bin', 'raftplane.js'), '--version'], dir)
  t.equal(r.status, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, /^raftplane: .*run `npm run build`.*\n$/)
  t.equal(r.stderr.split('\n').length, 2, 'one line')
})
