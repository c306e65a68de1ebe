// Shared by the scheduler's end-to-end tests: 3 real masters (loopback, ports from the
// OS, stopped in teardown), clients, Lease lookups, and a watch that records every
// pod's nodeName changes so a double binding would show.
import type { Test } from 'tap'
import { ApiTarget, type MasterProcess } from '../../../bench/apiserver/cluster.js'
import { findResource } from '../../../src/api/resources.js'
import { ApiError } from '../../../src/client/errors.js'
import { RestClient } from '../../../src/client/rest.js'
import type { KubeObject } from '../../../src/client/types.js'

export const PODS = findResource('', 'v1', 'pods')!
export const NODES = findResource('', 'v1', 'nodes')!
export const LEASES = findResource('coordination.k8s.io', 'v1', 'leases')!

export async function cluster(t: Test, masterFlags: string[]): Promise<ApiTarget> {
  const target = await ApiTarget.start({ kind: 'embedded', masters: 3, masterFlags })
  t.teardown(() => target.stop())
  return target
}

export function client(m: MasterProcess): RestClient {
  return new RestClient({ urls: m.url, qps: 0, maxRetries: 20 })
}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export async function holder(c: RestClient): Promise<string | undefined> {
  const lease = await c.resource(LEASES, 'kube-system').get('kube-scheduler')
  const h = (lease.spec as { holderIdentity?: string } | undefined)?.holderIdentity
  return h === undefined || h === '' ? undefined : h
}

export function masterOf(identity: string, target: ApiTarget): MasterProcess {
  const m = target.masters.find((x) => identity.startsWith(`${x.name}_`))
  if (m === undefined) throw new Error(`no master holds ${identity}`)
  return m
}

/**
 * Creates an object; AlreadyExists counts as done. Under load a write can land while
 * its answer is lost (a timeout after commit), and the client's retry then finds it.
 */
export async function createIdempotent(c: RestClient, obj: KubeObject): Promise<void> {
  const type = obj.kind === 'Node' ? NODES : PODS
  try {
    await c.resource(type, type === PODS ? 'default' : undefined).create(obj)
  } catch (err) {
    if (err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists') return
    throw err
  }
}

export async function createParallel(n: number, make: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) await make(next++)
    }),
  )
}

export const node = (i: number, cpu: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
  status: { allocatable: { cpu, memory: '64Gi', pods: '250' }, capacity: { cpu, memory: '64Gi', pods: '250' } },
})

export const pod = (i: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `p-${i}` },
  spec: { containers: [{ name: 'c', image: 'pause', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
})

/** Every pod's nodeName as the watch saw it change: bound once means ['', node] or [node]. */
export class BindingHistory {
  readonly nodeNames = new Map<string, string[]>()
  private stop: (() => void) | undefined

  async start(c: RestClient, resourceVersion: string): Promise<void> {
    const stream = await c.resource(PODS, 'default').watch({ resourceVersion })
    this.stop = () => stream.stop()
    void (async () => {
      for await (const ev of stream) {
        if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue
        const name = String(ev.object.metadata?.name)
        const nodeName = String((ev.object.spec as { nodeName?: string } | undefined)?.nodeName ?? '')
        const h = this.nodeNames.get(name) ?? []
        if (h.at(-1) !== nodeName) h.push(nodeName)
        this.nodeNames.set(name, h)
      }
    })().catch(() => undefined)
  }

  bound(): number {
    let n = 0
    for (const h of this.nodeNames.values()) if ((h.at(-1) ?? '') !== '') n++
    return n
  }

  /** Pods whose nodeName changed once set, or was set more than once. */
  rebound(): string[] {
    const bad: string[] = []
    for (const [name, h] of this.nodeNames) if (h.filter((x) => x !== '').length > 1) bad.push(`${name}: ${h.join(' → ')}`)
    return bad
  }

  close(): void {
    this.stop?.()
  }
}

export async function assertNoOvercommit(t: Test, c: RestClient): Promise<void> {
  const pods = (await c.resource(PODS, 'default').list()).items
  const perNode = new Map<string, number>()
  for (const p of pods) {
    const n = String((p.spec as { nodeName?: string }).nodeName ?? '')
    if (n !== '') perNode.set(n, (perNode.get(n) ?? 0) + 100)
  }
  const nodes = (await c.resource(NODES).list()).items
  const over = nodes.filter((n) => (perNode.get(String(n.metadata?.name)) ?? 0) > Number((n.status as { allocatable: { cpu: string } }).allocatable.cpu) * 1000)
  t.same(
    over.map((n) => n.metadata?.name),
    [],
    'no node has more cpu requested than allocatable',
  )
}

