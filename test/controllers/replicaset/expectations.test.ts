// Expectations against a slow watch: the ReplicaSet controller must never create or
// delete twice because its pod cache lags behind its own writes. One cluster's
// controller-manager sees pod events 2 s late (its informers' watch is delayed) while
// the ReplicaSet is poked again and again; a control run with every expectation
// expired at once shows that the same lag would make it create too many. Then, with
// an ordinary watch, a scale from 0 to 50 is watched event by event.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import { setMaxListeners } from 'node:events'
import { Registry } from 'prom-client'
import t, { type Test } from 'tap'
import type { ResourceType } from '../../../src/api/resources.js'
import { createApiServer } from '../../../src/apiserver/index.js'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { type KubeObject, realClock, RestClient, type ResourceClient, type WatchEvent, type WatchLike, type WatchStream } from '../../../src/client/index.js'
import { ControllerManager } from '../../../src/controllers/manager.js'
import { replicaSetController, replicaSetControllerWith } from '../../../src/controllers/replicaset/controller.js'
import type { ControllerFactory } from '../../../src/controllers/types.js'
import { eventually, PODS, REPLICASETS, settle, startCluster } from '../helpers.js'
import { activePods, eventsFor, isActive, NS, replicaSet, scale, waitActive, waitStatus } from './fixtures.js'

const LAG_MS = 2000

/** Hands on each event of `inner` `lagMs` after it arrived, in order. */
function lagged<T extends KubeObject>(inner: WatchLike<T>, lagMs: number): WatchLike<T> {
  return {
    stop: () => inner.stop(),
    async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
      const buffered: { at: number; ev: WatchEvent<T> }[] = []
      let ended = false
      let failure: unknown
      let wake: (() => void) | undefined
      void (async () => {
        try {
          for await (const ev of inner) {
            buffered.push({ at: Date.now() + lagMs, ev })
            wake?.()
          }
        } catch (err) {
          failure = err
        } finally {
          ended = true
          wake?.()
        }
      })()
      for (;;) {
        const next = buffered[0]
        if (next !== undefined) {
          const wait = next.at - Date.now()
          if (wait > 0) await new Promise((r) => setTimeout(r, wait))
          buffered.shift()
          yield next.ev
          continue
        }
        if (ended) {
          if (failure !== undefined) throw failure
          return
        }
        await new Promise<void>((r) => (wake = r))
        wake = undefined
      }
    },
  }
}

/** A client whose pod watches deliver every event late: a slow watch, as a loaded apiserver would give. */
class LaggingPodWatchClient extends RestClient {
  override resource<T extends KubeObject = KubeObject>(type: ResourceType, namespace?: string): ResourceClient<T> {
    const rc = super.resource<T>(type, namespace)
    if (type !== PODS) return rc
    const watch = rc.watch.bind(rc)
    rc.watch = async (opts) => lagged(await watch(opts), LAG_MS) as unknown as WatchStream<T>
    return rc
  }
}

/** An API server with a controller-manager (just the ReplicaSet controller) whose informers lag on pods. */
async function startLaggingCluster(t: Test, factory: ControllerFactory): Promise<RestClient> {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  const url = `http://127.0.0.1:${port}`
  const client = new RestClient({ urls: url, qps: 0 })
  const lagging = new LaggingPodWatchClient({ urls: url, qps: 0 })
  const abort = new AbortController()
  setMaxListeners(100, abort.signal)
  const running = new ControllerManager({ client: lagging, writer: client, controllers: ['replicaset'], registry: { replicaset: factory } }).run(abort.signal)
  t.teardown(async () => {
    abort.abort()
    await running
    lagging.close()
    client.close()
    await api.stop()
  })
  return client
}

/** Touches the ReplicaSet every 100 ms for `ms`: each touch is an update event and so a sync. */
async function poke(client: RestClient, name: string, ms: number): Promise<void> {
  const until = Date.now() + ms
  for (let i = 0; Date.now() < until; i++) {
    await client.resource(REPLICASETS, NS).patch(name, 'merge', { metadata: { annotations: { poke: String(i) } } })
    await new Promise((r) => setTimeout(r, 100))
  }
}

const allPods = async (client: RestClient, app: string): Promise<any[]> => (await client.resource(PODS, NS).list({ labelSelector: `app=${app}` })).items as any[]

t.test('with a lagging pod watch, syncs during the lag neither create nor delete again', async (t) => {
  const client = await startLaggingCluster(t, replicaSetController)
  await client.resource(REPLICASETS, NS).create(replicaSet('lag', 10))
  await poke(client, 'lag', LAG_MS + 1000)
  await waitStatus(client, REPLICASETS, 'lag', { replicas: 10 })
  await settle(1000)
  t.equal((await allPods(client, 'lag')).length, 10, 'exactly 10 pods were ever created')
  t.equal((await eventsFor(client, 'lag')).filter((e) => e.reason === 'SuccessfulCreate').length, 10)

  await scale(client, REPLICASETS, 'lag', 4)
  await poke(client, 'lag', LAG_MS + 1000)
  await waitStatus(client, REPLICASETS, 'lag', { replicas: 4, observedGeneration: 2 })
  await settle(1000)
  // Unscheduled pods are deleted at once, so what is left is what was never deleted.
  t.equal((await allPods(client, 'lag')).length, 4, 'exactly 6 pods were deleted')
  t.equal((await eventsFor(client, 'lag')).filter((e) => e.reason === 'SuccessfulDelete').length, 6)
})

t.test('control: the same lag with every expectation expired at once creates too many pods', async (t) => {
  // Each reading of this clock is ten minutes after the last, past the expectations' TTL.
  let ms = 0
  const jumping = { now: () => (ms += 600_000), setTimeout: realClock.setTimeout }
  const client = await startLaggingCluster(t, replicaSetControllerWith({ clock: jumping }))
  await client.resource(REPLICASETS, NS).create(replicaSet('nolag', 10))
  await poke(client, 'nolag', LAG_MS + 1000)
  await eventually('more than 10 pods', async () => ((await allPods(client, 'nolag')).length > 10 ? true : undefined), 10_000)
  t.pass('the controller created pods it had already created')
})

t.test('scaling from 0 to 50 never has more than 50 active pods at any time', async (t) => {
  const { client } = await startCluster(t, ['replicaset', 'garbagecollector'], { replicaset: replicaSetController })
  const pods = client.resource(PODS, NS)
  const start = await pods.list()
  const stream = await pods.watch({ resourceVersion: start.metadata.resourceVersion })
  const active = new Set<string>()
  let peak = 0
  let added = 0
  const watching = (async () => {
    for await (const ev of stream) {
      const p = ev.object as any
      if (p?.metadata?.labels?.app !== 'burst') continue
      if (ev.type === 'ADDED') added++
      if (ev.type !== 'DELETED' && isActive(p)) active.add(p.metadata.name)
      else active.delete(p.metadata.name)
      peak = Math.max(peak, active.size)
    }
  })()
  t.teardown(async () => {
    stream.stop()
    await watching
  })

  await client.resource(REPLICASETS, NS).create(replicaSet('burst', 0))
  await waitStatus(client, REPLICASETS, 'burst', { replicas: 0, observedGeneration: 1 })
  await scale(client, REPLICASETS, 'burst', 50)
  await waitActive(client, 'burst', 50)
  await waitStatus(client, REPLICASETS, 'burst', { replicas: 50, fullyLabeledReplicas: 50, observedGeneration: 2 })
  await settle()
  await eventually('the watch to catch up', async () => (active.size === 50 ? true : undefined))
  t.equal(peak, 50, 'at most 50 active pods at any event')
  t.equal(added, 50, 'exactly 50 pods created')

  await scale(client, REPLICASETS, 'burst', 10)
  await waitActive(client, 'burst', 10)
  await settle()
  t.equal((await activePods(client, 'burst')).length, 10, 'scaled down to exactly 10')
})
