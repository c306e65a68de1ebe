// Scheduler profiles: the default one (kube-scheduler's default plugin set and score
// weights) and the profiles of a KubeSchedulerConfiguration
// (kubescheduler.config.k8s.io/v1), merged with the defaults the way kube-scheduler
// merges them: per extension point, `disabled` removes default plugins ("*" all of
// them), `enabled` re-configures a default in place or appends; multiPoint plugins
// expand to every extension point they implement unless that point names or disables
// them. We model four extension points, filter and score (each plugin's PreFilter and
// PreScore go with them), reserve (with Unreserve) and preBind; the other points and
// the upstream plugins we do not model (images, preemption, binding…) may be named
// and have no effect. An unknown plugin, field or bad value is an Error naming where
// it is.
import { parse as parseYaml } from 'yaml'
import { isRecord, type Json } from '../../api/json.js'
import { UNMODELLED_PLUGINS } from '../plugins/names.js'
import { ConfigError, IN_TREE_PLUGINS, invalid, type Plugin } from '../plugins/registry.js'
import type { FilterPlugin, PreBindPlugin, Profile, ReservePlugin, ScorePlugin, WeightedScorePlugin } from './types.js'

export { ConfigError } from '../plugins/registry.js'

export const DEFAULT_SCHEDULER_NAME = 'default-scheduler'
export const SCHEDULER_CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1'
export const SCHEDULER_CONFIG_KIND = 'KubeSchedulerConfiguration'

export interface PluginRef {
  name: string
  weight?: number
}

export interface PluginSet {
  enabled: PluginRef[]
  disabled: PluginRef[]
}

/** Upstream v1 defaults (getDefaultPlugins), in order; the ones we do not model included, as no-ops. */
export const DEFAULT_MULTI_POINT: readonly PluginRef[] = [
  { name: 'SchedulingGates' },
  { name: 'PrioritySort' },
  { name: 'NodeUnschedulable' },
  { name: 'NodeName' },
  { name: 'TaintToleration', weight: 3 },
  { name: 'NodeAffinity', weight: 2 },
  { name: 'NodePorts' },
  { name: 'NodeResourcesFit', weight: 1 },
  { name: 'VolumeRestrictions' },
  { name: 'NodeVolumeLimits' },
  { name: 'VolumeBinding' },
  { name: 'VolumeZone' },
  { name: 'PodTopologySpread', weight: 2 },
  { name: 'InterPodAffinity', weight: 2 },
  { name: 'DefaultPreemption' },
  { name: 'NodeResourcesBalancedAllocation', weight: 1 },
  { name: 'ImageLocality', weight: 1 },
  { name: 'DefaultBinder' },
]

const EXTENSION_POINTS = ['preEnqueue', 'queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'permit', 'preBind', 'bind', 'postBind', 'multiPoint'] as const
type ExtensionPoint = (typeof EXTENSION_POINTS)[number]
type Plugins = Partial<Record<ExtensionPoint, PluginSet>>

const TOP_LEVEL_FIELDS = [
  'apiVersion',
  'kind',
  'parallelism',
  'leaderElection',
  'clientConnection',
  'healthzBindAddress',
  'metricsBindAddress',
  'enableProfiling',
  'enableContentionProfiling',
  'percentageOfNodesToScore',
  'podInitialBackoffSeconds',
  'podMaxBackoffSeconds',
  'profiles',
  'extenders',
  'delayCacheUntilActive',
]
const PROFILE_FIELDS = ['schedulerName', 'percentageOfNodesToScore', 'plugins', 'pluginConfig']

export interface ProfileOptions {
  schedulerName?: string
  percentageOfNodesToScore?: number
  /** As a profile's `plugins` in the configuration file. */
  plugins?: unknown
  /** As a profile's `pluginConfig`. */
  pluginConfig?: unknown
}

/** The default profile: every plugin we model with upstream's default weights and args. */
export function defaultProfile(schedulerName = DEFAULT_SCHEDULER_NAME): Profile {
  return buildProfile({ schedulerName }, 'profile')
}

/**
 * The profiles of a KubeSchedulerConfiguration, given as YAML/JSON text or as the
 * parsed object. No `profiles` means one default profile. Throws ConfigError.
 */
export function parseSchedulerConfig(input: unknown): Profile[] {
  let cfg: unknown = input
  if (typeof input === 'string') {
    try {
      cfg = parseYaml(input)
    } catch (err) {
      throw new ConfigError(`scheduler configuration is not valid YAML: ${(err as Error).message}`)
    }
  }
  if (!isRecord(cfg)) throw new ConfigError('scheduler configuration must be an object')
  if (cfg.apiVersion !== SCHEDULER_CONFIG_API_VERSION) {
    throw new ConfigError(`apiVersion: Unsupported value: ${JSON.stringify(cfg.apiVersion ?? '')}: supported values: "${SCHEDULER_CONFIG_API_VERSION}"`)
  }
  if (cfg.kind !== SCHEDULER_CONFIG_KIND) throw new ConfigError(`kind: Unsupported value: ${JSON.stringify(cfg.kind ?? '')}: supported values: "${SCHEDULER_CONFIG_KIND}"`)
  for (const k of Object.keys(cfg)) if (!TOP_LEVEL_FIELDS.includes(k)) throw new ConfigError(`unknown field "${k}"`)
  if (Array.isArray(cfg.extenders) && cfg.extenders.length > 0) throw invalid('extenders', cfg.extenders, 'scheduler extenders are not supported')
  const globalPct = cfg.percentageOfNodesToScore === undefined || cfg.percentageOfNodesToScore === null ? 0 : percentage(cfg.percentageOfNodesToScore, 'percentageOfNodesToScore')
  const rawProfiles = cfg.profiles ?? []
  if (!Array.isArray(rawProfiles)) throw invalid('profiles', rawProfiles, 'must be a list')
  if (rawProfiles.length === 0) return [buildProfile({ percentageOfNodesToScore: globalPct }, 'profiles[0]')]
  const names = new Set<string>()
  return rawProfiles.map((raw, i) => {
    const path = `profiles[${i}]`
    if (!isRecord(raw)) throw invalid(path, raw, 'must be an object')
    for (const k of Object.keys(raw)) if (!PROFILE_FIELDS.includes(k)) throw new ConfigError(`${path}: unknown field "${k}"`)
    if (typeof raw.schedulerName !== 'string' || raw.schedulerName === '') throw new ConfigError(`${path}.schedulerName: Required value`)
    if (names.has(raw.schedulerName)) throw new ConfigError(`${path}.schedulerName: Duplicate value: ${JSON.stringify(raw.schedulerName)}`)
    names.add(raw.schedulerName)
    const pct = raw.percentageOfNodesToScore === undefined || raw.percentageOfNodesToScore === null ? globalPct : percentage(raw.percentageOfNodesToScore, `${path}.percentageOfNodesToScore`)
    return buildProfile({ schedulerName: raw.schedulerName, percentageOfNodesToScore: pct, plugins: raw.plugins, pluginConfig: raw.pluginConfig }, path)
  })
}

function percentage(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) throw invalid(path, v, 'not in valid range [0-100]')
  return v
}

function knownName(name: string): boolean {
  return IN_TREE_PLUGINS.has(name) || UNMODELLED_PLUGINS.has(name)
}

function pluginSet(raw: unknown, path: string): PluginSet {
  if (raw === undefined || raw === null) return { enabled: [], disabled: [] }
  if (!isRecord(raw)) throw invalid(path, raw, 'must be an object')
  for (const k of Object.keys(raw)) if (k !== 'enabled' && k !== 'disabled') throw new ConfigError(`${path}: unknown field "${k}"`)
  const list = (v: unknown, p: string, disabled: boolean): PluginRef[] => {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) throw invalid(p, v, 'must be a list')
    return v.map((x, i) => {
      const ip = `${p}[${i}]`
      if (!isRecord(x)) throw invalid(ip, x, 'must be an object')
      for (const k of Object.keys(x)) if (k !== 'name' && k !== 'weight') throw new ConfigError(`${ip}: unknown field "${k}"`)
      if (typeof x.name !== 'string' || x.name === '') throw new ConfigError(`${ip}.name: Required value`)
      if (!(disabled && x.name === '*') && !knownName(x.name)) throw new ConfigError(`${ip}.name: plugin ${JSON.stringify(x.name)} does not exist`)
      const ref: PluginRef = { name: x.name }
      if (x.weight !== undefined && x.weight !== null) {
        if (typeof x.weight !== 'number' || !Number.isInteger(x.weight) || x.weight < 0) throw invalid(`${ip}.weight`, x.weight, 'must be a non-negative integer')
        ref.weight = x.weight
      }
      return ref
    })
  }
  return { enabled: list(raw.enabled, `${path}.enabled`, false), disabled: list(raw.disabled, `${path}.disabled`, true) }
}

/** Upstream's mergePluginSet: the custom set's view of the defaults. */
function mergePluginSet(defaults: PluginSet, custom: PluginSet): PluginSet {
  const disabled = new Set([...custom.disabled, ...defaults.disabled].map((p) => p.name))
  const customIndex = new Map<string, number>()
  custom.enabled.forEach((p, i) => customIndex.set(p.name, i))
  const replaced = new Set<number>()
  const enabled: PluginRef[] = []
  if (!disabled.has('*')) {
    for (const d of defaults.enabled) {
      if (disabled.has(d.name)) continue
      const ci = customIndex.get(d.name)
      if (ci === undefined) enabled.push(d)
      else {
        enabled.push(custom.enabled[ci])
        replaced.add(ci)
      }
    }
  }
  custom.enabled.forEach((p, i) => {
    if (!replaced.has(i)) enabled.push(p)
  })
  return { enabled, disabled: [...custom.disabled, ...defaults.disabled] }
}

/** The plugin names of one extension point after multiPoint expansion (upstream's expandMultiPointPlugins), in order. */
function expand(point: 'filter' | 'score' | 'reserve' | 'preBind', specific: PluginSet, multiPoint: PluginSet, path: string): string[] {
  const implementsPoint = (name: string): boolean => IN_TREE_PLUGINS.get(name)?.[point] === true
  const ignored = (name: string): boolean => UNMODELLED_PLUGINS.has(name) || IN_TREE_PLUGINS.get(name)?.ignoredPoints?.includes(point) === true
  const enabledSet: string[] = []
  for (const p of specific.enabled) {
    if (ignored(p.name)) continue
    if (!implementsPoint(p.name)) throw new ConfigError(`${path}.${point}.enabled: plugin ${JSON.stringify(p.name)} does not extend the ${point} extension point`)
    if (enabledSet.includes(p.name)) throw new ConfigError(`${path}.${point}.enabled: plugin ${JSON.stringify(p.name)} already registered as ${point} plugin`)
    enabledSet.push(p.name)
  }
  const disabled = new Set(specific.disabled.map((p) => p.name))
  if (disabled.has('*')) return enabledSet
  const overrides: string[] = []
  const fromMultiPoint: string[] = []
  for (const p of multiPoint.enabled) {
    if (ignored(p.name) || !implementsPoint(p.name) || disabled.has(p.name)) continue
    if (enabledSet.includes(p.name)) {
      if (!overrides.includes(p.name)) overrides.push(p.name)
      continue
    }
    if (fromMultiPoint.includes(p.name)) throw new ConfigError(`${path}.multiPoint.enabled: plugin ${JSON.stringify(p.name)} already registered as ${point} plugin`)
    fromMultiPoint.push(p.name)
  }
  const out = [...overrides]
  for (const n of [...fromMultiPoint, ...enabledSet]) if (!out.includes(n)) out.push(n)
  return out
}

function pluginArgs(raw: unknown, path: string): Map<string, unknown> {
  const args = new Map<string, unknown>()
  if (raw === undefined || raw === null) return args
  if (!Array.isArray(raw)) throw invalid(path, raw, 'must be a list')
  raw.forEach((x, i) => {
    const ip = `${path}[${i}]`
    if (!isRecord(x)) throw invalid(ip, x, 'must be an object')
    for (const k of Object.keys(x)) if (k !== 'name' && k !== 'args') throw new ConfigError(`${ip}: unknown field "${k}"`)
    if (typeof x.name !== 'string' || x.name === '') throw new ConfigError(`${ip}.name: Required value`)
    if (!knownName(x.name)) throw new ConfigError(`${ip}.name: plugin ${JSON.stringify(x.name)} does not exist`)
    if (args.has(x.name)) throw new ConfigError(`${ip}.name: Duplicate value: ${JSON.stringify(x.name)}`)
    args.set(x.name, x.args)
  })
  return args
}

/** One profile from its configuration (as in a KubeSchedulerConfiguration's profiles[]); `path` prefixes errors. */
export function buildProfile(opts: ProfileOptions, path = 'profile'): Profile {
  const schedulerName = opts.schedulerName ?? DEFAULT_SCHEDULER_NAME
  const pct = opts.percentageOfNodesToScore ?? 0
  percentage(pct, `${path}.percentageOfNodesToScore`)
  const pluginsPath = `${path}.plugins`
  if (opts.plugins !== undefined && opts.plugins !== null && !isRecord(opts.plugins)) throw invalid(pluginsPath, opts.plugins, 'must be an object')
  const rawPlugins = (opts.plugins ?? {}) as Json
  for (const k of Object.keys(rawPlugins)) if (!(EXTENSION_POINTS as readonly string[]).includes(k)) throw new ConfigError(`${pluginsPath}: unknown field "${k}"`)
  const plugins: Plugins = {}
  for (const point of EXTENSION_POINTS) {
    const defaults: PluginSet = { enabled: point === 'multiPoint' ? [...DEFAULT_MULTI_POINT] : [], disabled: [] }
    plugins[point] = mergePluginSet(defaults, pluginSet(rawPlugins[point], `${pluginsPath}.${point}`))
  }
  const filterNames = expand('filter', plugins.filter!, plugins.multiPoint!, pluginsPath)
  const scoreNames = expand('score', plugins.score!, plugins.multiPoint!, pluginsPath)
  const reserveNames = expand('reserve', plugins.reserve!, plugins.multiPoint!, pluginsPath)
  const preBindNames = expand('preBind', plugins.preBind!, plugins.multiPoint!, pluginsPath)

  // Score weights: multiPoint's, overridden by the score point's; 0 or unset means 1.
  const weights = new Map<string, number>()
  for (const p of plugins.multiPoint!.enabled) if (p.weight !== undefined) weights.set(p.name, p.weight)
  for (const p of plugins.score!.enabled) if (p.weight !== undefined) weights.set(p.name, p.weight)

  // One instance per plugin, shared by its filter and score roles (as upstream).
  const args = pluginArgs(opts.pluginConfig, `${path}.pluginConfig`)
  const instances = new Map<string, Plugin>()
  const instance = (name: string): Plugin => {
    let p = instances.get(name)
    if (p === undefined) {
      const i = [...args.keys()].indexOf(name)
      p = IN_TREE_PLUGINS.get(name)!.create(args.get(name), `${path}.pluginConfig[${i}].args`)
      instances.set(name, p)
    }
    return p
  }
  // Args for a plugin that is not enabled are still checked.
  for (const name of args.keys()) if (IN_TREE_PLUGINS.has(name)) instance(name)

  const filters: FilterPlugin[] = filterNames.map((n) => instance(n) as FilterPlugin)
  const scores: WeightedScorePlugin[] = scoreNames.map((n) => ({ plugin: instance(n) as ScorePlugin, weight: weights.get(n) || 1 }))
  const reserve: ReservePlugin[] = reserveNames.map((n) => instance(n) as ReservePlugin)
  const preBind: PreBindPlugin[] = preBindNames.map((n) => instance(n) as PreBindPlugin)
  return { schedulerName, filters, scores, percentageOfNodesToScore: pct, reserve, preBind }
}
