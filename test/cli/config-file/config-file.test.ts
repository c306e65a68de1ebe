// `--config FILE` for `raftplane master` and `raftplane node`: the documented example
// files parse into the commands' options; the command line wins over the file, the
// environment over the file; unknown keys and wrong types stop the command with one
// line naming the file and the key.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { configValues, ConfigFileError } from '../../../src/cli/config-file.js'
import { configFromFlags, type StoreFlags } from '../../../src/cli/commands/store.js'
import { buildProgram } from '../../../src/cli/main.js'
import { RAFTPLANE } from '../../apiserver/e2e/helpers/cluster.js'

const REPO = new URL('../../../', import.meta.url).pathname
const EXAMPLES = join(REPO, 'docs/examples')

/** The options `raftplane <args>` would run its command with (its action replaced, nothing started). */
async function optionsOf(args: string[]): Promise<Record<string, unknown>> {
  const program = buildProgram()
  const cmd = program.commands.find((c) => c.name() === args[0])!
  cmd.exitOverride()
  let opts: Record<string, unknown> | undefined
  cmd.action(() => {
    opts = cmd.opts()
  })
  await program.parseAsync(['node', 'raftplane', ...args])
  return opts!
}

function command(name: string): Command {
  return buildProgram().commands.find((c) => c.name() === name)!
}

t.test('the documented example files are valid configurations of their commands', async (t) => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort()
  t.same(files, ['master-1.yaml', 'master-2.yaml', 'master-3.yaml', 'node.yaml'])
  for (const i of [1, 2, 3]) {
    const f = await optionsOf(['master', '--config', join(EXAMPLES, `master-${i}.yaml`)])
    t.equal(f.name, `master-${i}`)
    t.equal(f.tlsCertFile, `/etc/raftplane/pki/master-${i}-apiserver.crt`)
    t.equal(f.securePort, '6443')
    // The store reads them as `raftplane master` will: URLs and the initial cluster parse.
    const cfg = configFromFlags(f as unknown as StoreFlags)
    t.same(cfg.initialCluster.map((m) => m.name), ['master-1', 'master-2', 'master-3'])
    t.same(cfg.initialAdvertisePeerURLs, [`http://10.0.0.1${i}:2380`])
    t.equal(cfg.initialCluster.find((m) => m.name === `master-${i}`)?.peerURLs[0], cfg.initialAdvertisePeerURLs[0], 'it advertises what the others expect')
  }
  const node = await optionsOf(['node', '--config', join(EXAMPLES, 'node.yaml')])
  t.equal(node.name, 'node-1')
  t.equal(node.apiservers, '10.0.0.11:6543,10.0.0.12:6543,10.0.0.13:6543')
  t.equal(node.kubeletPort, 10250, "through the flag's own parser")
  t.equal(node.certificateAuthority, '/etc/raftplane/pki/ca.crt')
  const node2 = await optionsOf(['node', '--config', join(EXAMPLES, 'node.yaml'), '--name', 'node-2', '--node-ip', '10.0.0.22'])
  t.match(node2, { name: 'node-2', nodeIp: '10.0.0.22', runtime: 'hollow' }, 'the documented per-node command line')
})

t.test('the YAML shown in docs/multi-machine.md is the example files', async (t) => {
  const doc = readFileSync(join(REPO, 'docs/multi-machine.md'), 'utf8')
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parseYaml(m[1]!) as unknown)
  t.same(blocks, [parseYaml(readFileSync(join(EXAMPLES, 'master-1.yaml'), 'utf8')), parseYaml(readFileSync(join(EXAMPLES, 'node.yaml'), 'utf8'))])
  for (const f of ['master-1.yaml', 'master-2.yaml', 'master-3.yaml', 'node.yaml']) t.match(doc, `(examples/${f})`, `the doc links ${f}`)
})

t.test('the command line wins over the file, before or after --config; the file over defaults', async (t) => {
  const dir = t.testdir({ 'm.yaml': 'name: from-file\nsecure-port: 7443\nnode-api-port: 7543\nno-scheduler: true\ninsecure: true\n' })
  const file = join(dir, 'm.yaml')
  const only = await optionsOf(['master', '--config', file])
  t.match(only, { name: 'from-file', securePort: '7443', nodeApiPort: '7543', scheduler: false, controllerManager: true, insecure: true, bindAddress: '0.0.0.0' })
  t.match(await optionsOf(['master', '--secure-port', '1', '--config', file, '--node-api-port', '2']), { name: 'from-file', securePort: '1', nodeApiPort: '2' })
  process.env.ETCD_NAME = 'from-env'
  t.teardown(() => delete process.env.ETCD_NAME)
  t.equal((await optionsOf(['master', '--config', file])).name, 'from-env', 'the environment over the file, as commander ranks them')
  t.equal((await optionsOf(['master', '--config', file, '--name', 'from-cli'])).name, 'from-cli')
})

t.test('unknown keys and wrong types are refused, naming the key', async (t) => {
  const master = command('master')
  const node = command('node')
  const refused = (cmd: Command, doc: unknown, message: string | RegExp): void => {
    t.throws(() => configValues(cmd, doc), { constructor: ConfigFileError, message }, JSON.stringify(doc))
  }
  refused(master, { 'secure-prot': 6443 }, 'unknown key "secure-prot": `raftplane master` has no flag --secure-prot')
  refused(master, { securePort: 6443 }, /unknown key "securePort".*e\.g\. secure-port/)
  refused(master, { config: 'other.yaml' }, 'unknown key "config"')
  refused(master, { 'secure-port': { a: 1 } }, 'secure-port: expected a string, a number or a list of them, got a mapping')
  refused(master, { 'secure-port': null }, 'secure-port: expected a string, a number or a list of them, got null')
  refused(master, { 'secure-port': true }, 'secure-port: expected a string, a number or a list of them, got a boolean')
  refused(master, { insecure: 'yes' }, 'insecure: expected true or false, got "yes"')
  refused(master, ['name', 'm1'], 'expected a mapping of flag names to values')
  refused(master, { 'heartbeat-interval': 'soon' }, 'heartbeat-interval: not a non-negative integer.')
  refused(node, { runtime: 'docker' }, /^runtime: .*process, hollow/)
  refused(node, { pods: -1 }, 'pods: not an integer ≥ 0.')
  refused(node, { 'register-with-taints': 'a=b:Sometimes' }, 'register-with-taints: invalid taint effect "Sometimes"')
  t.same(configValues(node, { 'no-kube-proxy': false, 'node-labels': 'a=b', apiservers: ['h1:1', 'h2:2'] }), new Map<string, unknown>([['nodeLabels', { a: 'b' }], ['apiservers', 'h1:1,h2:2']]))
  t.same(configValues(master, null), new Map(), 'an empty file sets nothing')
})

t.test('the command stops with one line and a non-zero exit code', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'name: m1\nbogus-flag: 1\n', 'broken.yaml': 'name: [m1\n' })
  for (const [file, message] of [
    ['bad.yaml', `raftplane master: --config ${join(dir, 'bad.yaml')}: unknown key "bogus-flag": \`raftplane master\` has no flag --bogus-flag`],
    ['broken.yaml', `raftplane master: --config ${join(dir, 'broken.yaml')}: `],
    ['missing.yaml', `raftplane master: --config ${join(dir, 'missing.yaml')}: ENOENT`],
  ] as const) {
    const r = spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), 'master', '--config', join(dir, file), '--insecure'], { encoding: 'utf8', timeout: 60_000 })
    t.equal(r.status, 1, file)
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line', { stderr: r.stderr })
    t.match(r.stderr, message)
  }
  const node = spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), 'node', '--config', join(dir, 'bad.yaml')], { encoding: 'utf8', timeout: 60_000 })
  t.equal(node.status, 1)
  t.match(node.stderr, 'raftplane node: --config')
})
