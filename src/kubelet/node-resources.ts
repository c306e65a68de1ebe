// The node's capacity and allocatable, as the kubelet reports them: capacity is what
// the machine has (or what the flags say it has: --cpu, --memory, --pods,
// --ephemeral-storage), allocatable is capacity less --kube-reserved,
// --system-reserved and the hard eviction thresholds (default memory.available<100Mi,
// nodefs.available<10%), never below zero. Hugepages are reported as 0. Pure.
import { parseQuantity, Quantity } from '../api/quantity.js'
import type { ResourceList } from '../api/resource-list.js'

export interface NodeResourceConfig {
  /** cores, e.g. `4`, `500m`. */
  cpu: string
  /** bytes, e.g. `16Gi`. */
  memory: string
  pods: number
  /** bytes of the node's root filesystem. */
  ephemeralStorage: string
  kubeReserved?: Readonly<Record<string, string>>
  systemReserved?: Readonly<Record<string, string>>
  /** signal → threshold (`100Mi` or `10%`), as --eviction-hard. */
  evictionHard?: Readonly<Record<string, string>>
}

export const DEFAULT_EVICTION_HARD: Readonly<Record<string, string>> = { 'memory.available': '100Mi', 'nodefs.available': '10%' }

/** The resource each eviction signal guards. */
const SIGNAL_RESOURCE: Record<string, string> = { 'memory.available': 'memory', 'nodefs.available': 'ephemeral-storage' }

function quantity(flag: string, v: string): Quantity {
  try {
    return parseQuantity(v)
  } catch (err) {
    throw new Error(`${flag}: ${JSON.stringify(v)}: ${(err as Error).message}`, { cause: err })
  }
}

export function nodeCapacity(c: NodeResourceConfig): ResourceList {
  if (!Number.isInteger(c.pods) || c.pods < 0) throw new Error(`--pods: not a non-negative integer: ${c.pods}`)
  const cap: ResourceList = new Map()
  cap.set('cpu', quantity('--cpu', c.cpu))
  cap.set('ephemeral-storage', quantity('--ephemeral-storage', c.ephemeralStorage))
  cap.set('hugepages-1Gi', Quantity.fromValue(0))
  cap.set('hugepages-2Mi', Quantity.fromValue(0))
  cap.set('memory', quantity('--memory', c.memory))
  cap.set('pods', Quantity.fromValue(c.pods))
  return cap
}

function threshold(signal: string, value: string, capacity: Quantity | undefined): Quantity {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value.trim())
  if (pct === null) return quantity(`--eviction-hard ${signal}`, value)
  if (capacity === undefined) return Quantity.fromValue(0)
  const fraction = Number(pct[1]) / 100
  return Quantity.fromValue(BigInt(Math.floor(capacity.value() * fraction)), capacity.format)
}

export function nodeAllocatable(capacity: ResourceList, c: NodeResourceConfig): ResourceList {
  const out: ResourceList = new Map(capacity)
  const take = (resource: string, q: Quantity): void => {
    const cur = out.get(resource)
    if (cur === undefined) return
    const left = cur.sub(q)
    out.set(resource, left.sign() < 0 ? Quantity.fromValue(0, cur.format) : left)
  }
  for (const [flag, reserved] of [
    ['--kube-reserved', c.kubeReserved],
    ['--system-reserved', c.systemReserved],
  ] as const) {
    for (const [k, v] of Object.entries(reserved ?? {})) if (k !== 'pid') take(k, quantity(`${flag} ${k}`, v))
  }
  for (const [signal, v] of Object.entries(c.evictionHard ?? DEFAULT_EVICTION_HARD)) {
    const resource = SIGNAL_RESOURCE[signal]
    if (resource !== undefined) take(resource, threshold(signal, v, capacity.get(resource)))
  }
  return out
}

/** `cpu=100m,memory=1Gi` (the --kube-reserved form). */
export function parseKeyValueList(flag: string, v: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new Error(`${flag}: expected key=value, got ${JSON.stringify(part)}`)
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim()
  }
  return out
}

/** `memory.available<100Mi,nodefs.available<10%` (the --eviction-hard form). */
export function parseEvictionThresholds(v: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of v.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z.]+)<(.+)$/.exec(part)
    if (m === null) throw new Error(`--eviction-hard: expected signal<value, got ${JSON.stringify(part)}`)
    out[m[1]!] = m[2]!.trim()
  }
  return out
}
