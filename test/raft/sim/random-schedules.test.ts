import t from 'tap'
import { runSchedule, sizeForSeed } from './schedule.js'

// CI runs RAFT_SCHEDULES random schedules (default 1,200: 600 on 3 nodes, 600 on 5;
// one in ten five times longer).
// The seeds differ each run so that coverage grows over time; a failure prints the seed,
// and `RAFT_SEED=<seed> npm test` replays exactly that schedule.
const replay = process.env.RAFT_SEED
const count = Number(process.env.RAFT_SCHEDULES ?? 1200)
const base = Number(process.env.RAFT_SEED_BASE ?? Math.floor(Math.random() * 1e9))

if (replay !== undefined) {
  t.test(`replaying seed ${replay}`, async (t) => {
    const r = runSchedule(Number(replay))
    t.comment(JSON.stringify(r))
    t.pass(`seed ${replay} on ${r.size} nodes holds every safety property and converges`)
  })
} else {
  t.test('random schedules keep election safety, log matching, leader completeness, state machine safety and linearizable reads', async (t) => {
    t.comment(`seeds ${base}..${base + count - 1}`)
    let ok = 0
    const totals = { acked: 0, reads: 0, elections: 0, snapshots: 0, restarts: 0, dropped: 0, membershipChanges: 0 }
    for (let i = 0; i < count; i++) {
      const seed = base + i
      try {
        const r = runSchedule(seed)
        totals.acked += r.acked
        totals.reads += r.reads
        totals.elections += r.stats.elections
        totals.snapshots += r.stats.snapshots
        totals.restarts += r.stats.restarts
        totals.dropped += r.stats.dropped
        totals.membershipChanges += r.stats.confChanges - r.size // beyond the bootstrap entries
        ok++
      } catch (err) {
        t.fail(`schedule failed on ${sizeForSeed(seed)} nodes: replay with RAFT_SEED=${seed} npm test\n${(err as Error).stack}`)
        break
      }
    }
    t.comment(`totals: ${JSON.stringify(totals)}`)
    t.equal(ok, count, `${count} schedules on 3 and 5 nodes`)
    // The schedules must actually exercise the system, or the checks prove nothing.
    t.ok(totals.acked > count * 10, 'writes were acknowledged')
    t.ok(totals.reads > count * 5, 'linearizable reads were served')
    t.ok(totals.snapshots > count / 10, 'snapshots were taken')
    t.ok(totals.restarts > count / 10, 'nodes crashed and restarted')
    t.ok(totals.membershipChanges > count / 4, 'members were added, promoted and removed')
  })
}
