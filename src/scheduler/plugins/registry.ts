// The in-tree plugins by name, and how each one's pluginConfig args decode
// (KubeSchedulerConfiguration v1 field names, defaults and range checks). A config
// error names the field it is about: "…args.scoringStrategy.type: Unsupported value:
// "Foo": supported values: …". Unknown args fields are errors, as kube-scheduler's
// strict decoding makes them.
import { isRecord, type Json } from '../../api/json.js'
import type { FilterPlugin, PreBindPlugin, ReservePlugin, ScorePlugin } from '../framework/types.js'
import { BalancedAllocation } from './balanced-allocation.js'
import type { ResourceSpec } from './helpers/resource-allocation.js'
import { InterPodAffinity } from './inter-pod-affinity.js'
import { NodeAffinity } from './node-affinity.js'
import { NodeName } from './node-name.js'
import { NodePorts } from './node-ports.js'
import { NodeResourcesFit, type ScoringStrategyType, type UtilizationShapePoint } from './node-resources-fit.js'
import { NodeUnschedulable } from './node-unschedulable.js'
import { PodTopologySpread } from './pod-topology-spread.js'
import { TaintToleration } from './taint-toleration.js'
import { VolumeBinding } from './volume-binding.js'

export type Plugin = Partial<FilterPlugin> & Partial<ScorePlugin> & Partial<ReservePlugin> & Partial<PreBindPlugin> & { readonly name: string }

export interface PluginEntry {
  readonly name: string
  readonly filter: boolean
  readonly score: boolean
  readonly reserve?: boolean
  readonly preBind?: boolean
  /** Extension points upstream's plugin has that ours does not model: naming the plugin there is accepted and does nothing. */
  readonly ignoredPoints?: readonly string[]
  /** Builds the plugin from its (possibly absent) args; throws Error naming `path` on bad args. */
  create(args: unknown, path: string): Plugin
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v)

export function invalid(path: string, value: unknown, detail: string): ConfigError {
  return new ConfigError(`${path}: Invalid value: ${show(value)}: ${detail}`)
}

function argsObject(args: unknown, path: string, known: readonly string[]): Json {
  if (args === undefined || args === null) return {}
  if (!isRecord(args)) throw invalid(path, args, 'must be an object')
  for (const k of Object.keys(args)) if (k !== 'apiVersion' && k !== 'kind' && !known.includes(k)) throw new ConfigError(`${path}: unknown field "${k}"`)
  return args
}

function integer(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(path, v, 'must be an integer')
  if (v < min || v > max) throw invalid(path, v, `not in valid range [${min}-${max}]`)
  return v
}

function stringList(v: unknown, path: string): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(path, v, 'must be a list of strings')
  return v as string[]
}

function resources(v: unknown, path: string, minWeight: number, maxWeight: number): ResourceSpec[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw invalid(path, v, 'must be a list')
  const seen = new Set<string>()
  return v.map((raw, i) => {
    const p = `${path}[${i}]`
    const r = argsObject(raw, p, ['name', 'weight'])
    if (typeof r.name !== 'string' || r.name === '') throw new ConfigError(`${p}.name: Required value`)
    if (seen.has(r.name)) throw new ConfigError(`${p}.name: Duplicate value: ${show(r.name)}`)
    seen.add(r.name)
    const weight = r.weight ?? 1
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < minWeight || weight > maxWeight) {
      throw invalid(`${p}.weight`, weight, `resource weight of ${r.name} should be in range [${minWeight}, ${maxWeight}]`)
    }
    return { name: r.name, weight }
  })
}

const STRATEGIES: readonly ScoringStrategyType[] = ['LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio']

function shape(v: unknown, path: string): UtilizationShapePoint[] {
  if (!Array.isArray(v) || v.length === 0) throw new ConfigError(`${path}: Required value: at least one point must be specified`)
  let last = -1
  return v.map((raw, i) => {
    const p = `${path}[${i}]`
    const pt = argsObject(raw, p, ['utilization', 'score'])
    const utilization = integer(pt.utilization ?? 0, `${p}.utilization`, 0, 100)
    if (utilization <= last) throw invalid(`${p}.utilization`, utilization, 'utilization values must be sorted in increasing order')
    last = utilization
    const score = integer(pt.score ?? 0, `${p}.score`, 0, 10)
    return { utilization, score }
  })
}

function nodeResourcesFit(args: unknown, path: string): NodeResourcesFit {
  const a = argsObject(args, path, ['ignoredResources', 'ignoredResourceGroups', 'scoringStrategy'])
  const ignoredResources = stringList(a.ignoredResources, `${path}.ignoredResources`)
  const ignoredResourceGroups = stringList(a.ignoredResourceGroups, `${path}.ignoredResourceGroups`)
  ignoredResourceGroups.forEach((g, i) => {
    if (g.includes('/')) throw invalid(`${path}.ignoredResourceGroups[${i}]`, g, 'resource group name can\'t contain "/"')
  })
  const sp = `${path}.scoringStrategy`
  const s = argsObject(a.scoringStrategy, sp, ['type', 'resources', 'requestedToCapacityRatio'])
  const type = (s.type ?? 'LeastAllocated') as ScoringStrategyType
  if (!STRATEGIES.includes(type)) throw new ConfigError(`${sp}.type: Unsupported value: ${show(s.type)}: supported values: ${STRATEGIES.map(show).join(', ')}`)
  const res = resources(s.resources, `${sp}.resources`, 1, 100)
  let ratio: { shape: UtilizationShapePoint[] } | undefined
  if (type === 'RequestedToCapacityRatio') {
    const rp = `${sp}.requestedToCapacityRatio`
    if (s.requestedToCapacityRatio === undefined) throw new ConfigError(`${rp}: Required value: requestedToCapacityRatio is required for scoring strategy type RequestedToCapacityRatio`)
    const r = argsObject(s.requestedToCapacityRatio, rp, ['shape'])
    ratio = { shape: shape(r.shape, `${rp}.shape`) }
  } else if (s.requestedToCapacityRatio !== undefined) {
    throw invalid(`${sp}.requestedToCapacityRatio`, s.requestedToCapacityRatio, `only valid for scoring strategy type RequestedToCapacityRatio`)
  }
  return new NodeResourcesFit({
    scoringStrategy: { type, ...(res === undefined ? {} : { resources: res }), ...(ratio === undefined ? {} : { requestedToCapacityRatio: ratio }) },
    ignoredResources,
    ignoredResourceGroups,
  })
}

function noArgs(create: () => Plugin) {
  return (args: unknown, path: string): Plugin => {
    argsObject(args, path, [])
    return create()
  }
}

function volumeBinding(args: unknown, path: string): VolumeBinding {
  const a = argsObject(args, path, ['bindTimeoutSeconds', 'shape'])
  let bindTimeoutSeconds: number | undefined
  if (a.bindTimeoutSeconds !== undefined && a.bindTimeoutSeconds !== null) {
    const v = a.bindTimeoutSeconds
    if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`${path}.bindTimeoutSeconds`, v, 'must be an integer')
    if (v < 0) throw invalid(`${path}.bindTimeoutSeconds`, v, 'invalid BindTimeoutSeconds, should not be a negative value')
    bindTimeoutSeconds = v
  }
  // The shape scores by capacity, behind upstream's VolumeCapacityPriority gate (alpha, off): as upstream with the gate off.
  if (a.shape !== undefined && a.shape !== null) throw invalid(`${path}.shape`, a.shape, 'unsupported when VolumeCapacityPriority feature is disabled')
  return new VolumeBinding(bindTimeoutSeconds === undefined ? {} : { bindTimeoutSeconds })
}

const entries: PluginEntry[] = [
  { name: 'NodeUnschedulable', filter: true, score: false, create: noArgs(() => new NodeUnschedulable()) },
  { name: 'NodeName', filter: true, score: false, create: noArgs(() => new NodeName()) },
  { name: 'TaintToleration', filter: true, score: true, create: noArgs(() => new TaintToleration()) },
  {
    name: 'NodeAffinity',
    filter: true,
    score: true,
    create: (args, path) => {
      const a = argsObject(args, path, ['addedAffinity'])
      if (a.addedAffinity !== undefined && !isRecord(a.addedAffinity)) throw invalid(`${path}.addedAffinity`, a.addedAffinity, 'must be a NodeAffinity object')
      return new NodeAffinity({ addedAffinity: a.addedAffinity })
    },
  },
  { name: 'NodePorts', filter: true, score: false, create: noArgs(() => new NodePorts()) },
  { name: 'NodeResourcesFit', filter: true, score: true, create: nodeResourcesFit },
  { name: 'VolumeBinding', filter: true, score: false, reserve: true, preBind: true, ignoredPoints: ['score'], create: volumeBinding },
  {
    name: 'PodTopologySpread',
    filter: true,
    score: true,
    create: (args, path) => {
      const a = argsObject(args, path, ['defaultConstraints', 'defaultingType'])
      if (a.defaultingType !== undefined && a.defaultingType !== 'System' && a.defaultingType !== 'List') {
        throw new ConfigError(`${path}.defaultingType: Unsupported value: ${show(a.defaultingType)}: supported values: "System", "List"`)
      }
      if (a.defaultConstraints !== undefined && !Array.isArray(a.defaultConstraints)) throw invalid(`${path}.defaultConstraints`, a.defaultConstraints, 'must be a list')
      // Default constraints need the Services/ReplicaSets a pod belongs to, which we do not list: accepted, not applied.
      return new PodTopologySpread()
    },
  },
  {
    name: 'InterPodAffinity',
    filter: true,
    score: true,
    create: (args, path) => {
      const a = argsObject(args, path, ['hardPodAffinityWeight', 'ignorePreferredTermsOfExistingPods'])
      const hard = a.hardPodAffinityWeight === undefined ? 1 : integer(a.hardPodAffinityWeight, `${path}.hardPodAffinityWeight`, 0, 100)
      const ignore = a.ignorePreferredTermsOfExistingPods ?? false
      if (typeof ignore !== 'boolean') throw invalid(`${path}.ignorePreferredTermsOfExistingPods`, ignore, 'must be a boolean')
      return new InterPodAffinity({ hardPodAffinityWeight: hard, ignorePreferredTermsOfExistingPods: ignore })
    },
  },
  {
    name: 'NodeResourcesBalancedAllocation',
    filter: false,
    score: true,
    create: (args, path) => {
      const a = argsObject(args, path, ['resources'])
      const res = resources(a.resources, `${path}.resources`, 1, 1)
      return new BalancedAllocation(res === undefined ? {} : { resources: res })
    },
  },
]

export const IN_TREE_PLUGINS: ReadonlyMap<string, PluginEntry> = new Map(entries.map((e) => [e.name, e]))
