// `--config FILE` for commands that run one component per machine (`raftplane
// master`, `raftplane node`): a YAML mapping whose keys are the command's long flag
// names without the leading dashes (kebab-case, as etcd's config file), e.g.
// `secure-port: 6443`, `no-scheduler: true`, `initial-cluster: [a=…, b=…]`.
//
// A value goes through the flag's own parser, so a file accepts and refuses exactly
// what the command line does. Precedence is commander's: command line, then
// environment variables (the store's ETCD_*), then the file, then defaults. The file
// is read when commander meets `--config` during parsing, before it checks required
// flags, so a file may give `--name` too; flags already given on the command line
// keep their values, flags after `--config` override it as commander parses them.
import { readFileSync } from 'node:fs'
import type { Command, Option } from 'commander'
import { parse as parseYaml } from 'yaml'

export class ConfigFileError extends Error {}

/** What a YAML value becomes on the command line: scalars as text, lists joined with commas. */
function flagText(key: string, v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))) return v.map(String).join(',')
  const kind = v === null ? 'null' : Array.isArray(v) ? 'a list of non-scalars' : typeof v === 'object' ? 'a mapping' : `a ${typeof v}`
  throw new ConfigFileError(`${key}: expected a string, a number or a list of them, got ${kind}`)
}

function optionFor(cmd: Command, key: string): Option | undefined {
  if (key === 'config') return undefined
  return cmd.options.find((o) => o.long === `--${key}`)
}

/**
 * The option values a parsed config document gives `cmd`, by attribute name (as
 * commander stores them), each through the flag's parser. Throws ConfigFileError
 * naming the key for unknown keys and wrong types.
 */
export function configValues(cmd: Command, doc: unknown): Map<string, unknown> {
  const values = new Map<string, unknown>()
  if (doc === null || doc === undefined) return values
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigFileError('expected a mapping of flag names to values')
  for (const [key, v] of Object.entries(doc as Record<string, unknown>)) {
    const o = optionFor(cmd, key)
    if (o === undefined) {
      const hint = /[A-Z_]/.test(key) ? ` (keys are the long flag names in kebab-case, e.g. ${key.replace(/[A-Z_]/g, (c) => (c === '_' ? '-' : `-${c.toLowerCase()}`))})` : ''
      throw new ConfigFileError(`unknown key "${key}": \`raftplane ${cmd.name()}\` has no flag --${key}${hint}`)
    }
    const attr = o.attributeName()
    if (!o.required && !o.optional) {
      if (typeof v !== 'boolean') throw new ConfigFileError(`${key}: expected true or false, got ${JSON.stringify(v)}`)
      // `no-scheduler: true` is --no-scheduler; `no-scheduler: false` leaves the default.
      if (o.negate) {
        if (v) values.set(attr, false)
      } else values.set(attr, v)
      continue
    }
    const text = flagText(key, v)
    try {
      values.set(attr, o.parseArg === undefined ? text : o.parseArg(text, cmd.getOptionValue(attr)))
    } catch (err) {
      throw new ConfigFileError(`${key}: ${(err as Error).message}`, { cause: err })
    }
  }
  return values
}

/** Reads and parses FILE (YAML) into option values for `cmd`; errors name the file. */
export function readConfigFile(cmd: Command, file: string): Map<string, unknown> {
  let doc: unknown
  try {
    doc = parseYaml(readFileSync(file, 'utf8'))
  } catch (err) {
    throw new ConfigFileError(`--config ${file}: ${(err as Error).message.split('\n')[0]}`, { cause: err })
  }
  try {
    return configValues(cmd, doc)
  } catch (err) {
    throw new ConfigFileError(`--config ${file}: ${(err as Error).message}`, { cause: err })
  }
}

/** Gives `cmd` a `--config <file>` flag whose YAML values sit under the command line. */
export function addConfigFile(cmd: Command): Command {
  cmd.option('--config <file>', 'a YAML file of flags: keys are the long flag names (secure-port: 6443); the command line wins')
  cmd.on('option:config', (file: string) => {
    let values: Map<string, unknown>
    try {
      values = readConfigFile(cmd, file)
    } catch (err) {
      // As commander's own usage errors: one line on stderr, exit code 1.
      cmd.error(`raftplane ${cmd.name()}: ${(err as Error).message}`, { code: 'raftplane.configFile' })
    }
    for (const [attr, value] of values) {
      const source = cmd.getOptionValueSource(attr)
      if (source === undefined || source === 'default' || source === 'implied') cmd.setOptionValueWithSource(attr, value, 'config')
    }
  })
  return cmd
}
