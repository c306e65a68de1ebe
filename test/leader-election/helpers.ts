// Shared set-up for the leader election tests: in-process API servers over one
// memory store (two of them act as two masters), clients and electors stopped at
// teardown, and a log of what each elector's callbacks saw.
import type { Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../src/apiserver/index.js'
import type { ApiServer } from '../../src/apiserver/server.js'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { RestClient, type RestClientOptions } from '../../src/client/rest.js'
import { LeaderElector, type LeaderElectorOptions } from '../../src/leader-election/index.js'
import type { Lease } from '../../src/leader-election/record.js'

export interface Api {
  api: ApiServer
  url: string
  stop(): Promise<void>
}

export async function startApi(t: Test, storage = new MemoryStorage()): Promise<Api & { storage: MemoryStorage }> {
  const api = createApiServer({ storage, metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await api.stop()
  }
  t.teardown(stop)
  return { api, url: `http://127.0.0.1:${port}`, storage, stop }
}

export function client(t: Test, url: string, opts: Partial<RestClientOptions> = {}): RestClient {
  const c = new RestClient({ urls: url, qps: 0, timeoutMs: 2000, ...opts })
  t.teardown(() => c.close())
  return c
}

/** What one elector's callbacks reported, with local times (performance.now()). */
export interface Journal {
  started: { at: number; signal: AbortSignal }[]
  stopped: number[]
  aborted: number[]
  leaders: string[]
}

export interface Candidate {
  elector: LeaderElector
  journal: Journal
  /** Stops run() and waits for it (and for the release). */
  stop(): Promise<void>
  done: Promise<void>
}

export function candidate(t: Test, opts: Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading'> & Partial<LeaderElectorOptions>): Candidate {
  const journal: Journal = { started: [], stopped: [], aborted: [], leaders: [] }
  const elector = new LeaderElector({
    onStartedLeading: (signal) => {
      journal.started.push({ at: performance.now(), signal })
      signal.addEventListener('abort', () => journal.aborted.push(performance.now()), { once: true })
    },
    onStoppedLeading: () => journal.stopped.push(performance.now()),
    onNewLeader: (id) => journal.leaders.push(id),
    ...opts,
  })
  const ctl = new AbortController()
  const done = elector.run(ctl.signal)
  const stop = async (): Promise<void> => {
    ctl.abort()
    await done
  }
  t.teardown(stop)
  return { elector, journal, stop, done }
}

/** Polls until `cond` holds; fails after `ms`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export async function getLease(url: string, name = 'kube-scheduler', ns = 'kube-system'): Promise<Lease | undefined> {
  const res = await fetch(`${url}/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`)
  if (res.status === 404) return undefined
  return (await res.json()) as Lease
}

export const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
