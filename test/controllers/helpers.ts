// An in-process API server over memory storage with the controller-manager running
// the named controllers against it, torn down with the test.
import { setMaxListeners } from 'node:events'
import type { Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import type { ResourceType } from '../../src/api/resources.js'
import { isNotFound, RestClient } from '../../src/client/index.js'
import { ControllerManager, CONTROLLERS } from '../../src/controllers/manager.js'
import type { ControllerFactory } from '../../src/controllers/types.js'

export * from '../../src/controllers/util/resources.js'

/**
 * `extra`: controllers not (yet) in CONTROLLERS, by name, available beside them.
 */
export async function startCluster(t: Test, controllers: string[], extra: Record<string, ControllerFactory> = {}): Promise<{ client: RestClient }> {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  const client = new RestClient({ urls: `http://127.0.0.1:${port}`, qps: 0 })
  const abort = new AbortController()
  // Every informer's cache-sync wait listens on the term's signal (30 of them with the collector).
  setMaxListeners(100, abort.signal)
  const running = new ControllerManager({ client, writer: client, controllers, registry: { ...CONTROLLERS, ...extra } }).run(abort.signal)
  t.teardown(async () => {
    abort.abort()
    await running
    client.close()
    await api.stop()
  })
  return { client }
}

/** Polls `probe` until it returns a value (not undefined); generous deadline, no timing asserted. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Resolves once the object is gone. */
export async function gone(client: RestClient, rt: ResourceType, namespace: string | undefined, name: string, timeoutMs?: number): Promise<true> {
  return eventually(
    `${rt.plural} ${name} to be deleted`,
    async () => {
      try {
        await client.resource(rt, namespace).get(name)
        return undefined
      } catch (err) {
        if (isNotFound(err)) return true
        throw err
      }
    },
    timeoutMs,
  )
}

/** True when the object still exists. */
export async function exists(client: RestClient, rt: ResourceType, namespace: string | undefined, name: string): Promise<boolean> {
  try {
    await client.resource(rt, namespace).get(name)
    return true
  } catch (err) {
    if (isNotFound(err)) return false
    throw err
  }
}

/** Lets the controllers run for a while (to show that something does not happen). */
export function settle(ms = 1500): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
