// Stabilization windows, scaling policies and bounds on a made-up clock: what the HPA
// sets for what the metrics ask, sync after sync.
import t from 'tap'
import { type Behavior, normalizeLegacy, normalizeWithBehavior, ScaleHistory } from '../../../src/controllers/podautoscaler/normalize.js'

const S = 1000
const DEFAULT_BEHAVIOR: Behavior = {
  scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
  scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
}

/** Runs syncs in order, applying each result as the next current size and recording scale events. */
function run(history: ScaleHistory, start: number, steps: { at: number; desired: number }[], behavior: Behavior | undefined, bounds = { min: 1, max: 100 }, downMs = 300 * S) {
  let current = start
  return steps.map(({ at, desired }) => {
    const args = { history, currentReplicas: current, desiredReplicas: desired, minReplicas: bounds.min, maxReplicas: bounds.max, now: at }
    const n = behavior === undefined ? normalizeLegacy(args, downMs) : normalizeWithBehavior(args, behavior, downMs)
    if (n.replicas !== current) history.storeScaleEvent(behavior, current, n.replicas, at)
    current = n.replicas
    return n
  })
}

t.test('legacy: a scale-down waits out the downscale window; a scale-up at most doubles (or adds up to 4)', async (t) => {
  const h = new ScaleHistory(10, 0)
  const [early, late] = run(h, 10, [
    { at: 60 * S, desired: 2 },
    { at: 301 * S, desired: 2 },
  ], undefined)
  t.equal(early!.replicas, 10, 'the first recommendation (10, at the first sync) is within 5 min')
  t.equal(early!.ableToScale.reason, 'ScaleDownStabilized')
  t.same(early!.limited, { status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' })
  t.equal(late!.replicas, 2, 'after 5 min the highest recent recommendation is 2')
  t.equal(late!.ableToScale.reason, 'ReadyForNewScale')

  const up = run(new ScaleHistory(2, 0), 2, [{ at: S, desired: 50 }], undefined)[0]!
  t.equal(up.replicas, 4, 'max(2 × 2, 4)')
  t.same(up.limited, { status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' })
  const capped = run(new ScaleHistory(2, 0), 2, [{ at: S, desired: 50 }], undefined, { min: 1, max: 3 })[0]!
  t.equal(capped.replicas, 3)
  t.equal(capped.limited.reason, 'TooManyReplicas')
  const floor = run(new ScaleHistory(1, -400 * S), 3, [{ at: 0, desired: 1 }], undefined, { min: 2, max: 10 })[0]!
  t.equal(floor.replicas, 2)
  t.same(floor.limited, { status: 'True', reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' })
})

t.test('default behavior: up by 4 pods or 100% per 15 s, whichever is more', async (t) => {
  const h = new ScaleHistory(1, 0)
  const r = run(h, 1, [
    { at: S, desired: 40 }, // from 1: max(1 + 4, 2) = 5
    { at: 5 * S, desired: 40 }, // the period started at 1: still 5
    { at: 17 * S, desired: 40 }, // a new period from 5: max(9, 10) = 10
    { at: 33 * S, desired: 40 }, // from 10: 20
  ], DEFAULT_BEHAVIOR)
  t.same(r.map((n) => n.replicas), [5, 5, 10, 20])
  t.same(r.map((n) => n.limited.reason), ['ScaleUpLimit', 'ScaleUpLimit', 'ScaleUpLimit', 'ScaleUpLimit'])
})

t.test('default behavior: a scale-down waits for the controller-wide window when the HPA sets none', async (t) => {
  const h = new ScaleHistory(8, 0)
  const r = run(h, 8, [
    { at: 10 * S, desired: 2 },
    { at: 20 * S, desired: 3 },
    { at: 31 * S, desired: 2 },
  ], DEFAULT_BEHAVIOR, { min: 1, max: 100 }, 30 * S)
  // At 10 s and 20 s the initial 8 is within 30 s; at 31 s the highest within 30 s is 3.
  t.same(r.map((n) => n.replicas), [8, 8, 3])
  t.same(r.map((n) => n.ableToScale.reason), ['ScaleDownStabilized', 'ScaleDownStabilized', 'ScaleDownStabilized'])
})

t.test('a scale-up window keeps the lowest recent recommendation', async (t) => {
  const behavior: Behavior = { ...DEFAULT_BEHAVIOR, scaleUp: { ...DEFAULT_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 60 } }
  const r = run(new ScaleHistory(2, 0), 2, [
    { at: 10 * S, desired: 6 },
    { at: 30 * S, desired: 6 },
    { at: 61 * S, desired: 6 },
  ], behavior)
  // Until the first sync's 2 is more than 60 s old, the lowest recent recommendation holds the size.
  t.same(r.map((n) => n.replicas), [2, 2, 6])
  t.same(r.map((n) => n.ableToScale.reason), ['ScaleUpStabilized', 'ScaleUpStabilized', 'ReadyForNewScale'])
})

t.test('policies: Pods down by 1 per minute; selectPolicy Min takes the stricter; Disabled freezes', async (t) => {
  const slowDown: Behavior = { scaleUp: DEFAULT_BEHAVIOR.scaleUp, scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } }
  const r = run(new ScaleHistory(5, -10 * S), 5, [
    { at: 0, desired: 1 },
    { at: 10 * S, desired: 1 },
    { at: 61 * S, desired: 1 },
  ], slowDown)
  t.same(r.map((n) => n.replicas), [4, 4, 3])
  t.same(r[1]!.limited, { status: 'True', reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' })

  const strict: Behavior = { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Min', policies: DEFAULT_BEHAVIOR.scaleUp!.policies! }, scaleDown: DEFAULT_BEHAVIOR.scaleDown! }
  t.equal(run(new ScaleHistory(10, 0), 10, [{ at: S, desired: 100 }], strict)[0]!.replicas, 14, 'min(10 + 4, 20)')

  const frozen: Behavior = { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Disabled', policies: [] }, scaleDown: DEFAULT_BEHAVIOR.scaleDown! }
  const f = run(new ScaleHistory(3, 0), 3, [{ at: S, desired: 9 }], frozen)[0]!
  t.equal(f.replicas, 3)
  t.equal(f.limited.status, 'True')
})

t.test('recommendation slots are reused once outside every window', async (t) => {
  const h = new ScaleHistory(3, 0)
  for (let i = 1; i <= 100; i++) normalizeWithBehavior({ history: h, currentReplicas: 3, desiredReplicas: 3, minReplicas: 1, maxReplicas: 10, now: i * 15 * S }, { ...DEFAULT_BEHAVIOR, scaleDown: { ...DEFAULT_BEHAVIOR.scaleDown, stabilizationWindowSeconds: 60 } }, 300 * S)
  t.ok(h.recommendations.length <= 6, `${h.recommendations.length} kept for a 60 s window at one sync per 15 s`)
})
