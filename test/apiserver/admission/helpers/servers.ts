// API servers over an in-memory store for the admission tests: real HTTP on loopback
// (port 0), stopped at the end of the test; several servers may share one store, as
// masters share the replicated one.
/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are arbitrary JSON, read by path in assertions */
import type { Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../../../src/apiserver/index.js'
import type { ApiServer } from '../../../../src/apiserver/server.js'
import { MemoryStorage } from '../../../../src/apiserver/storage/memory.js'

export interface Reply {
  status: number
  body: any
  text: string
}

export interface Server {
  api: ApiServer
  url: string
}

export async function startServers(t: Test, count = 1, storage = new MemoryStorage()): Promise<Server[]> {
  const out: Server[] = []
  for (let i = 0; i < count; i++) {
    const api = createApiServer({ storage, metrics: new Registry(), name: `m${i}` })
    const port = await api.listen({ host: '127.0.0.1', port: 0 })
    await api.ready()
    t.teardown(() => api.stop())
    out.push({ api, url: `http://127.0.0.1:${port}` })
  }
  return out
}

/**
 * A store whose reads answer a few milliseconds late, so read-modify-write cycles of
 * concurrent requests overlap (on the bare in-memory store they rarely would).
 */
export function slowReads(storage: MemoryStorage, maxDelayMs = 5): MemoryStorage {
  const get = storage.get.bind(storage)
  storage.get = async (...args: Parameters<MemoryStorage['get']>) => {
    const res = await get(...args)
    await new Promise((r) => setTimeout(r, Math.random() * maxDelayMs))
    return res
  }
  return storage
}

export async function call(url: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const init: RequestInit = { method, headers: {} }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
  }
  const res = await fetch(url + path, init)
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, body: parsed, text }
}

/** An assertion message: the whole reply only when it is an error worth reading. */
export function detail(r: Reply): string {
  return r.status < 400 ? `HTTP ${r.status}` : r.text
}

export async function createNamespace(t: Test, url: string, name: string): Promise<void> {
  const r = await call(url, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })
  t.equal(r.status, 201, `namespace ${name}: ${detail(r)}`)
}

export interface ContainerSpec {
  name?: string
  requests?: Record<string, string>
  limits?: Record<string, string>
}

export function pod(name: string, ...specs: ContainerSpec[]): Record<string, unknown> {
  const list = specs.length === 0 ? [{}] : specs
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      containers: list.map((c, i) => {
        const resources: Record<string, unknown> = {}
        if (c.requests !== undefined) resources.requests = c.requests
        if (c.limits !== undefined) resources.limits = c.limits
        return { name: c.name ?? (i === 0 ? 'app' : `app${i}`), image: 'busybox', resources }
      }),
    },
  }
}

/** Polls `check` until it holds (the watch cache and other servers see writes a moment later). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return true
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 20))
  }
}
