// etcd's auto-compaction rules, driven tick by tick with a fake clock and store.
import t from 'tap'
import { pino } from 'pino'
import { AutoCompactor } from '../../../src/kv/server/auto-compaction.js'

function target(leader = true) {
  const s = { leader, rev: 1, compacted: 0, calls: [] as number[] }
  return {
    s,
    t: {
      isLeader: () => s.leader,
      currentRevision: () => s.rev,
      compactedRevision: () => s.compacted,
      compact: async (rev: number) => {
        s.calls.push(rev)
        s.compacted = rev
      },
    },
  }
}
const log = pino({ level: 'silent' })

t.test('revision mode keeps the last `retention` revisions', async (t) => {
  const { s, t: tg } = target()
  const c = new AutoCompactor('revision', 100, tg, log)
  s.rev = 50
  await c.tick()
  t.same(s.calls, [], 'nothing to compact below the retention')
  s.rev = 1000
  await c.tick()
  t.same(s.calls, [900])
  await c.tick()
  t.same(s.calls, [900], 'not again at the same revision')
  s.rev = 1500
  await c.tick()
  t.same(s.calls, [900, 1400])
})

t.test('periodic mode compacts at the revision seen one retention ago', async (t) => {
  let now = 0
  const { s, t: tg } = target()
  const c = new AutoCompactor('periodic', 60_000, tg, log, 0, () => now)
  // A tick every 6 s (retention / 10), the revision growing by 10 per tick.
  for (let k = 0; k <= 20; k++) {
    now = k * 6_000
    s.rev = 10 + k * 10
    await c.tick()
  }
  // At t=2min, the sample from t=1min (rev 110) is one retention old.
  t.equal(s.calls.at(-1), 110)
  t.ok(s.calls.every((r, i) => i === 0 || r > s.calls[i - 1]!), 'compaction revisions only grow')
})

t.test('only the leader compacts', async (t) => {
  const { s, t: tg } = target(false)
  const c = new AutoCompactor('revision', 10, tg, log)
  s.rev = 100
  await c.tick()
  t.same(s.calls, [])
  s.leader = true
  await c.tick()
  t.same(s.calls, [90])
})

t.test('retention 0 disables it', async (t) => {
  const { t: tg } = target()
  const c = new AutoCompactor('revision', 0, tg, log)
  c.start()
  c.stop()
  t.pass('no timer started')
})
