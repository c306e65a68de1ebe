// In-process watch fan-out: W watchers on one prefix over 10 streams, N puts applied
// (store.write then hub.notify, as the apply loop does); reports puts/s and events
// delivered/s (encoded responses written to counting sinks). Run: npx tsx bench/watch-fanout.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KVStore } from '../src/kv/mvcc/kv-store.js'
import { WatchHub } from '../src/kv/watch/hub.js'

const header = () => ({ clusterId: '1', memberId: '2', raftTerm: 1 })

async function run(watchers: number, puts: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'watch-fanout-'))
  const store = await KVStore.open(dir)
  const hub = new WatchHub(store, { header })
  let events = 0
  let bytes = 0
  const streams = Array.from({ length: 10 }, () =>
    hub.openStream({
      write(b: Buffer) {
        bytes += b.length
        events++
        return true
      },
    }),
  )
  for (let i = 0; i < watchers; i++) streams[i % 10].create({ key: Buffer.from('/registry/pods/'), range_end: Buffer.from('/registry/pods0') })
  events = 0
  const value = Buffer.alloc(256, 120)
  let notifyMs = 0
  const start = performance.now()
  for (let i = 0; i < puts; i++) {
    const r = await store.write(i + 1, [{ put: { key: Buffer.from(`/registry/pods/p${i % 100}`), value } }])
    const t0 = performance.now()
    hub.notify(r.revision, r.changes)
    notifyMs += performance.now() - t0
  }
  while (events < watchers * puts) await new Promise((r) => setImmediate(r))
  const secs = (performance.now() - start) / 1000
  console.log(
    `${String(watchers).padStart(6)} watchers | ${puts} puts | ${(puts / secs).toFixed(0).padStart(6)} puts/s | ` +
      `${(events / secs).toFixed(0).padStart(8)} events/s | notify ${((notifyMs / puts) * 1000).toFixed(1)} µs/put | ${(bytes / 1e6).toFixed(1)} MB`,
  )
  hub.close()
  await store.close()
  rmSync(dir, { recursive: true, force: true })
}

await run(1_000, 2_000)
await run(10_000, 300)
