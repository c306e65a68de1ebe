// The request rows of the apiserver bench: pod creates (throughput, and the pods every
// later row reads and updates), LISTs of all of them, and pod updates one at a time on
// an otherwise idle server. Every pod is bound to one node, so a node's WatchPods
// stream (the kubelet's watch) sees the same events as a namespace watch.
import { Histogram } from '../kv/wire.js'
import type { LoopResult, RestClient } from './rest.js'
import { closedLoop } from './rest.js'
import { STAMP_ANNOTATION } from './watch-wire.js'

export const NAMESPACE = 'bench'
export const NODE_NAME = 'bench-node'

export function podName(i: number): string {
  return `bench-${String(i).padStart(6, '0')}`
}

/** A pod as a workload controller would create it (~1.6 KB stored, with defaults and managedFields). */
function podBody(i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName(i),
        labels: { app: 'bench', shard: String(i % 16) },
        annotations: { [STAMP_ANNOTATION]: '0' },
      },
      spec: {
        nodeName: NODE_NAME,
        containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.9', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
      },
    }),
  )
}

export async function createNamespace(rest: RestClient): Promise<void> {
  const res = await rest.request('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }))
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating namespace ${NAMESPACE}: HTTP ${res.status} ${res.body.toString('utf8', 0, 300)}`)
}

const podsPath = `/api/v1/namespaces/${NAMESPACE}/pods`

/** POST `pods` pods, `concurrency` in flight. */
export function createPods(rest: RestClient, o: { pods: number; concurrency: number; timeoutSeconds?: number }): Promise<LoopResult> {
  return closedLoop({
    concurrency: Math.min(o.concurrency, o.pods),
    seconds: o.timeoutSeconds ?? 600,
    maxOps: o.pods,
    op: async (seq) => {
      const res = await rest.request('POST', podsPath, podBody(seq))
      return res.status === 201 ? undefined : `create ${podName(seq)}: HTTP ${res.status} ${res.body.toString('utf8', 0, 200)}`
    },
  })
}

/** A merge patch that stamps the pod with now (wall-clock ms). */
export function stampPatch(): Buffer {
  return Buffer.from(`{"metadata":{"annotations":{"${STAMP_ANNOTATION}":"${(performance.timeOrigin + performance.now()).toFixed(3)}"}}}`)
}

/** PATCH one pod's stamp; resolves to its new resourceVersion, or throws. */
export async function stampPod(rest: RestClient, i: number): Promise<number> {
  const res = await rest.request('PATCH', `${podsPath}/${podName(i)}`, stampPatch(), 'application/merge-patch+json')
  if (res.status !== 200) throw new Error(`patch ${podName(i)}: HTTP ${res.status} ${res.body.toString('utf8', 0, 200)}`)
  // The response's resourceVersion, without parsing the pod.
  const m = /"resourceVersion":"(\d+)"/.exec(res.body.toString('latin1'))
  return m ? Number(m[1]) : 0
}

/** Updates one at a time, back to back, for `seconds`: mutating latency on an idle server. */
export function idleUpdates(rest: RestClient, o: { pods: number; seconds: number }): Promise<LoopResult> {
  return closedLoop({
    concurrency: 1,
    seconds: o.seconds,
    op: async (seq) => {
      await stampPod(rest, (seq * 7919) % o.pods)
      return undefined
    },
  })
}

export interface ListResult extends LoopResult {
  items: number
  bytes: number
}

/**
 * LIST the namespace's pods `times` times, `concurrency` at a time, checking every
 * answer holds `expect` items. resourceVersion "0": whatever the watch cache holds;
 * "": a consistent list (the cache, once it has caught up with the store's revision).
 */
export async function listPods(rest: RestClient, o: { resourceVersion: '' | '0'; times: number; concurrency: number; expect: number }): Promise<ListResult> {
  const r: ListResult = { ops: 0, errors: 0, seconds: 0, hist: new Histogram(), items: 0, bytes: 0 }
  const path = `${podsPath}${o.resourceVersion === '' ? '' : '?resourceVersion=0'}`
  const start = performance.now()
  let next = 0
  const loop = async () => {
    while (next < o.times) {
      next++
      const t0 = performance.now()
      let err: string | undefined
      try {
        const res = await rest.request('GET', path)
        // Latency ends with the last byte; checking the answer is the client's time.
        const ms = performance.now() - t0
        if (res.status !== 200) err = `list: HTTP ${res.status} ${res.body.toString('utf8', 0, 200)}`
        else {
          r.bytes = res.body.length
          const list = JSON.parse(res.body.toString('utf8')) as { items?: unknown[] }
          r.items = list.items?.length ?? 0
          if (r.items !== o.expect) err = `list: ${r.items} items, expected ${o.expect}`
          else {
            r.ops++
            r.hist.record(ms)
          }
        }
      } catch (e) {
        err = (e as Error).message
      }
      if (err !== undefined) {
        r.errors++
        r.firstError ??= err
      }
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, loop))
  r.seconds = (performance.now() - start) / 1000
  return r
}

/** The namespace's current resourceVersion (a one-item list from the store). */
export async function currentResourceVersion(rest: RestClient): Promise<string> {
  const list = await rest.json('GET', `${podsPath}?limit=1`)
  return String((list.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? '')
}
