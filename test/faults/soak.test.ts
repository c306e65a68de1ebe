// The short seeded fault run CI does (the long one is `npm run test:faults -- --seconds
// 600`, see ./run.ts): 20 s of kills, pauses and partitions on a 3-member store under
// the register workload and watchers; every verdict must hold. FAULTS_SEED replays
// another schedule.
import t from 'tap'
import { formatReport, NEMESES, runFaults } from './run.js'

t.test('20 s of seeded faults: linearizable, durable, watches complete, HashKV equal', async (t) => {
  const seed = Number(process.env.FAULTS_SEED ?? 20261123)
  const report = await runFaults({ seconds: 20, nemeses: NEMESES, seed })
  t.comment(formatReport(report))
  t.ok(report.timeline.length >= 3, `${report.timeline.length} faults hit the cluster`)
  for (const v of report.verdicts) t.ok(v.ok, `${v.name}: ${v.detail}`)
  if (!report.ok) t.comment(`replay with FAULTS_SEED=${seed}`)
})
