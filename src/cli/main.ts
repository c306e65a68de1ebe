// The `raftplane` command line. bin/raftplane.js runs the compiled copy of this
// file; `node --import tsx src/cli/main.ts …` runs it straight from source.
//
// Subcommands live one per file under src/cli/commands/, each exporting a
// `register…(program: Command): void` that adds itself to the program; add the
// function to COMMANDS below. Tests call buildProgram() without spawning.
import { readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Command } from 'commander'
import { registerBench } from './commands/bench.js'
import { registerCerts } from './commands/certs.js'
import { registerControl } from './commands/control.js'
import { registerLb } from './commands/lb.js'
import { registerMaster } from './commands/master.js'
import { registerNode } from './commands/node.js'
import { registerStatus } from './commands/status.js'
import { registerStore } from './commands/store.js'
import { registerUp } from './commands/up.js'
import { addConfigFile } from './config-file.js'

/** Adds one subcommand (and its own subcommands) to the program. */
export type RegisterCommand = (program: Command) => void

const COMMANDS: readonly RegisterCommand[] = [registerBench, registerCerts, registerControl, registerLb, registerMaster, registerNode, registerStatus, registerStore, registerUp]

/** Commands that take `--config FILE`. */
const CONFIG_FILE_COMMANDS = ['master', 'node']

interface PackageJson {
  name: string
  version: string
}

let cachedPackage: PackageJson | undefined

/**
 * raftplane's package.json, found by walking up from this file, so the same
 * code works from src/cli/ (tsx) and from dist/src/cli/ (compiled).
 */
export function packageJson(): PackageJson {
  if (cachedPackage) return cachedPackage
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = join(dir, 'package.json')
    let text: string | undefined
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      // no package.json here; keep walking up
    }
    if (text !== undefined) {
      const pkg = JSON.parse(text) as Partial<PackageJson>
      if (pkg.name === 'raftplane' && typeof pkg.version === 'string') {
        cachedPackage = { name: pkg.name, version: pkg.version }
        return cachedPackage
      }
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error('raftplane: cannot find its package.json')
    dir = parent
  }
}

/** The whole `raftplane` program, ready for parse()/parseAsync(). */
export function buildProgram(): Command {
  const program = new Command('raftplane')
    .description(
      'A Kubernetes-style control plane that keeps working when a master dies: ' +
        'its own Raft, an etcd-compatible store, a kubectl-compatible API server.',
    )
    .version(packageJson().version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError()

  for (const register of COMMANDS) register(program)
  // The components run one per machine also take their flags from a YAML file (src/cli/config-file.ts).
  for (const name of CONFIG_FILE_COMMANDS) addConfigFile(program.commands.find((c) => c.name() === name)!)

  return program
}

/** Parses argv (node-style: [node, script, ...args]) and runs the command. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv)
}

function isEntryPoint(): boolean {
  const script = process.argv[1]
  if (!script) return false
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url
  } catch {
    return false
  }
}

if (isEntryPoint()) await main()
