// Preloaded into every master the apiserver bench starts (`node --import <this>`), so
// the event-loop delay of the measured process is read the same way whatever the
// storage behind it (a master on --etcd-servers has no default process metrics on
// /metrics). A 10 ms timer measures how late it fires; once a second one line goes to
// stderr: `@loop-probe {"t":<wall ms>,"n":<samples>,"d":[[<wall ms>,<delay ms>],…]}`,
// listing only delays over 1 ms (each with when it ended), so a line stays short and
// the bench computes exact percentiles over any time window.
const PERIOD_MS = 10
const REPORT_MS = 1000

const wall = (): number => performance.timeOrigin + performance.now()
let samples = 0
let delays: [number, number][] = []
let expected = performance.now() + PERIOD_MS

function tick(): void {
  const now = performance.now()
  const late = now - expected
  samples++
  if (late > 1) delays.push([Math.round(wall()), Math.round(late * 10) / 10])
  // A long block counts once, then the schedule restarts from now.
  expected = now + PERIOD_MS
  setTimeout(tick, PERIOD_MS).unref()
}
setTimeout(tick, PERIOD_MS).unref()

setInterval(() => {
  process.stderr.write(`@loop-probe ${JSON.stringify({ t: Math.round(wall()), n: samples, d: delays })}\n`)
  samples = 0
  delays = []
}, REPORT_MS).unref()

export {}
