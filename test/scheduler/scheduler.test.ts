// The scheduler loop against a real API server (in process, memory storage): pods
// are bound to nodes that fit, a pod that fits nowhere gets PodScheduled=False with
// upstream's message and a FailedScheduling event, and is bound once a node that
// fits appears; higher priority goes first; the metrics count every attempt.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t, { type Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { findResource } from '../../src/api/resources.js'
import { RestClient } from '../../src/client/rest.js'
import type { KubeObject } from '../../src/client/types.js'
import { Scheduler } from '../../src/scheduler/scheduler.js'

const PODS = findResource('', 'v1', 'pods')!
const NODES = findResource('', 'v1', 'nodes')!
const EVENTS = findResource('', 'v1', 'events')!

async function setup(t: Test): Promise<{ client: RestClient; metrics: Registry; stop: () => Promise<void> }> {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  const client = new RestClient({ urls: `http://127.0.0.1:${port}`, qps: 0 })
  const metrics = new Registry()
  const abort = new AbortController()
  const running = new Scheduler({ client, writer: client, metrics, host: 'test-master', rng: () => 0 }).run(abort.signal)
  const stop = async (): Promise<void> => {
    abort.abort()
    await running
  }
  t.teardown(async () => {
    await stop()
    await api.stop()
  })
  return { client, metrics, stop }
}

const node = (name: string, cpu: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  status: { allocatable: { cpu, memory: '8Gi', pods: '110' }, capacity: { cpu, memory: '8Gi', pods: '110' } },
  ...extra,
})

const pod = (name: string, cpu: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu } } }], ...spec },
})

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const nodeOf = async (c: RestClient, name: string): Promise<string | undefined> => {
  const p = await c.resource(PODS, 'default').get(name)
  const n = (p.spec as any).nodeName as string | undefined
  return n === undefined || n === '' ? undefined : n
}

t.test('binds pods where they fit; reports and retries the ones that fit nowhere', async (t) => {
  const { client, metrics } = await setup(t)
  await client.resource(NODES).create(node('small', '1'))
  await client.resource(NODES).create(node('big', '4'))
  await client.resource(PODS, 'default').create(pod('fits-big', '3'))
  t.equal(await eventually('fits-big bound', () => nodeOf(client, 'fits-big')), 'big', 'only big has 3 cpu')
  await client.resource(PODS, 'default').create(pod('fits-small', '900m'))
  t.equal(await eventually('fits-small bound', () => nodeOf(client, 'fits-small')), 'small', 'big has only 1 cpu left, small has 1: either fits; small is less allocated')

  await client.resource(PODS, 'default').create(pod('too-big', '2'))
  const cond = await eventually('PodScheduled=False', async () => {
    const p = await client.resource(PODS, 'default').get('too-big')
    const c = ((p.status as any)?.conditions ?? []).find((x: any) => x.type === 'PodScheduled')
    return c?.status === 'False' ? c : undefined
  })
  t.equal(cond.reason, 'Unschedulable')
  t.match(cond.message, /^0\/2 nodes are available: 2 Insufficient cpu\./)
  const ev = await eventually('a FailedScheduling event', async () => {
    const items = (await client.resource(EVENTS, 'default').list()).items as any[]
    return items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'too-big')
  })
  t.equal(ev.type, 'Warning')
  t.equal(ev.source.component, 'default-scheduler')
  t.equal(ev.source.host, 'test-master')

  // A node that fits arrives: the waiting pod is moved back and bound.
  await client.resource(NODES).create(node('bigger', '8'))
  t.equal(await eventually('too-big bound', () => nodeOf(client, 'too-big')), 'bigger')
  const scheduled = await eventually('a Scheduled event', async () => {
    const items = (await client.resource(EVENTS, 'default').list()).items as any[]
    return items.find((e) => e.reason === 'Scheduled' && e.involvedObject.name === 'too-big')
  })
  t.equal(scheduled.message, 'Successfully assigned default/too-big to bigger')

  const text = await metrics.metrics()
  t.match(text, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 3/)
  t.match(text, /scheduler_schedule_attempts_total\{result="unschedulable",profile="default-scheduler"\} [1-9]/)
  t.match(text, /scheduler_pending_pods\{queue="active"\} 0/)
})

t.test('node selectors, taints and pods that name another scheduler', async (t) => {
  const { client } = await setup(t)
  await client.resource(NODES).create({ ...node('gpu', '4'), metadata: { name: 'gpu', labels: { accel: 'gpu' } }, spec: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] } })
  await client.resource(NODES).create(node('plain', '4'))
  await client.resource(PODS, 'default').create(pod('anywhere', '100m'))
  t.equal(await eventually('anywhere bound', () => nodeOf(client, 'anywhere')), 'plain', 'the taint keeps it off gpu')
  await client.resource(PODS, 'default').create(
    pod('wants-gpu', '100m', { nodeSelector: { accel: 'gpu' }, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }),
  )
  t.equal(await eventually('wants-gpu bound', () => nodeOf(client, 'wants-gpu')), 'gpu')
  await client.resource(PODS, 'default').create(pod('other-scheduler', '100m', { schedulerName: 'someone-else' }))
  await new Promise((r) => setTimeout(r, 500))
  t.equal(await nodeOf(client, 'other-scheduler'), undefined, 'a pod for another scheduler is left alone')
})

t.test('higher priority pods are scheduled first when capacity is short', async (t) => {
  const { client } = await setup(t)
  await client.resource(findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!).create({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'high' },
    value: 1000,
  })
  // Both wait for cpu on the one node (unschedulable, NodeResourcesFit); then the
  // node grows enough for one of them. Past their first back-off (1 s) both move to
  // the active queue together, where priority orders them.
  await client.resource(NODES).create(node('one-slot', '1'))
  await client.resource(PODS, 'default').create(pod('low', '3'))
  await client.resource(PODS, 'default').create(pod('high', '3', { priorityClassName: 'high' }))
  await eventually('both unschedulable', async () => {
    const items = (await client.resource(PODS, 'default').list()).items as any[]
    const ok = items.every((p) => ((p.status?.conditions ?? []) as any[]).some((c) => c.type === 'PodScheduled' && c.status === 'False'))
    return ok && items.length === 2 ? true : undefined
  })
  await new Promise((r) => setTimeout(r, 1500))
  const n = await client.resource(NODES).get('one-slot')
  await client.resource(NODES).updateStatus({ ...n, status: { ...(n.status as object), allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } })
  t.equal(await eventually('high bound', () => nodeOf(client, 'high')), 'one-slot')
  await new Promise((r) => setTimeout(r, 300))
  t.equal(await nodeOf(client, 'low'), undefined, 'low still waits')
})
