// From the replicas the metrics ask for to the replicas the HPA sets (upstream's
// normalizeDesiredReplicas and normalizeDesiredReplicasWithBehaviors):
//
// 1. Stabilization: every sync's raw recommendation is remembered. A scale-down goes
//    no lower than the highest recommendation within the scale-down window (5 min by
//    default), a scale-up no higher than the lowest within the scale-up window (0 s),
//    so a dip or a spike shorter than the window does not move the target.
// 2. Rate: spec.behavior's policies bound how much may change per period (by default
//    up by 4 pods or 100% per 15 s, whichever is more; down by 100% per 15 s), counted
//    from the scale events this controller made. Without spec.behavior the legacy
//    rule applies: at most double, or 4, per sync.
// 3. minReplicas / maxReplicas.
//
// What each step did goes into the AbleToScale and ScalingLimited conditions.
// The history lives in this controller-manager's memory, as upstream's: a new leader
// starts with the current size as its only recommendation.

export interface ScalingPolicy {
  type: string
  value: number
  periodSeconds: number
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number
  selectPolicy?: string
  policies?: ScalingPolicy[]
}

export interface Behavior {
  scaleUp?: ScalingRules
  scaleDown?: ScalingRules
}

interface Recommendation {
  replicas: number
  at: number
}

interface ScaleEvent {
  change: number
  at: number
  outdated: boolean
}

/** One HPA's memory: raw recommendations and the scale changes made. */
export class ScaleHistory {
  readonly recommendations: Recommendation[] = []
  readonly scaleUpEvents: ScaleEvent[] = []
  readonly scaleDownEvents: ScaleEvent[] = []

  /** The size found at the first sync counts as a recommendation (a fresh leader does not scale down at once). */
  constructor(initialReplicas: number, now: number) {
    this.recommendations.push({ replicas: initialReplicas, at: now })
  }

  /** Records a recommendation, reusing the slot of one older than `obsoleteBefore`. */
  remember(replicas: number, now: number, obsoleteBefore: (at: number) => boolean): void {
    let slot = -1
    this.recommendations.forEach((r, i) => {
      if (obsoleteBefore(r.at)) slot = i
    })
    const entry = { replicas, at: now }
    if (slot >= 0) this.recommendations[slot] = entry
    else this.recommendations.push(entry)
  }

  /** Records a scale change the controller made (kept only when spec.behavior rates need it). */
  storeScaleEvent(behavior: Behavior | undefined, prev: number, next: number, now: number): void {
    if (behavior === undefined) return
    const up = next > prev
    const events = up ? this.scaleUpEvents : this.scaleDownEvents
    const longest = Math.max(0, ...(((up ? behavior.scaleUp : behavior.scaleDown)?.policies ?? []).map((p) => p.periodSeconds)))
    let slot = -1
    events.forEach((e, i) => {
      if (e.at < now - longest * 1000) e.outdated = true
      if (e.outdated) slot = i
    })
    const entry = { change: Math.abs(next - prev), at: now, outdated: false }
    if (slot >= 0) events[slot] = entry
    else events.push(entry)
  }
}

export interface Condition {
  reason: string
  message: string
}

export interface Normalized {
  replicas: number
  /** AbleToScale (True) after stabilization. */
  ableToScale: Condition
  /** ScalingLimited: status True when the rate or the bounds cut the stabilized recommendation. */
  limited: Condition & { status: 'True' | 'False' }
}

export interface NormalizeArgs {
  history: ScaleHistory
  currentReplicas: number
  /** What the metrics ask for. */
  desiredReplicas: number
  minReplicas: number
  maxReplicas: number
  now: number
}

const READY_FOR_NEW_SCALE: Condition = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' }
const WITHIN_RANGE: Condition = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' }
const SCALE_UP_LIMIT: Condition = { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
const TOO_MANY: Condition = { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' }
const SCALE_DOWN_LIMIT: Condition = { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }
const TOO_FEW: Condition = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' }
const SCALE_UP_STABILIZED: Condition = {
  reason: 'ScaleUpStabilized',
  message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
}
const SCALE_DOWN_STABILIZED: Condition = {
  reason: 'ScaleDownStabilized',
  message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
}

function limited(replicas: number, stabilized: number, c: Condition): Normalized['limited'] {
  return { ...c, status: replicas === stabilized ? 'False' : 'True' }
}

/** Without spec.behavior: the highest recommendation of the downscale window, then at most ×2 (or 4) up, then the bounds. */
export function normalizeLegacy(a: NormalizeArgs, downscaleStabilizationMs: number): Normalized {
  const cutoff = a.now - downscaleStabilizationMs
  let stabilized = a.desiredReplicas
  for (const r of a.history.recommendations) if (r.at >= cutoff) stabilized = Math.max(stabilized, r.replicas)
  a.history.remember(a.desiredReplicas, a.now, (at) => at < cutoff)
  const ableToScale = stabilized !== a.desiredReplicas ? SCALE_DOWN_STABILIZED : READY_FOR_NEW_SCALE

  // A bogus usage spike must not multiply the pods: no more than double (or 4) per sync.
  const scaleUpLimit = Math.max(2 * a.currentReplicas, 4)
  const [maxAllowed, overMax] = a.maxReplicas > scaleUpLimit ? [scaleUpLimit, SCALE_UP_LIMIT] : [a.maxReplicas, TOO_MANY]
  let replicas = stabilized
  let why = WITHIN_RANGE
  if (stabilized < a.minReplicas) [replicas, why] = [a.minReplicas, TOO_FEW]
  else if (stabilized > maxAllowed) [replicas, why] = [maxAllowed, overMax]
  return { replicas, ableToScale, limited: limited(replicas, stabilized, why) }
}

/** With spec.behavior (defaulted by the API): both stabilization windows, then the policies' rates, then the bounds. */
export function normalizeWithBehavior(a: NormalizeArgs, behavior: Behavior, downscaleStabilizationMs: number): Normalized {
  const up = behavior.scaleUp ?? {}
  const down = behavior.scaleDown ?? {}
  const upWindowMs = (up.stabilizationWindowSeconds ?? 0) * 1000
  const downWindowMs = down.stabilizationWindowSeconds != null ? down.stabilizationWindowSeconds * 1000 : downscaleStabilizationMs

  let upRecommendation = a.desiredReplicas
  let downRecommendation = a.desiredReplicas
  for (const r of a.history.recommendations) {
    if (r.at > a.now - upWindowMs) upRecommendation = Math.min(upRecommendation, r.replicas)
    if (r.at > a.now - downWindowMs) downRecommendation = Math.max(downRecommendation, r.replicas)
  }
  let stabilized = a.currentReplicas
  if (stabilized < upRecommendation) stabilized = upRecommendation
  if (stabilized > downRecommendation) stabilized = downRecommendation
  a.history.remember(a.desiredReplicas, a.now, (at) => at < a.now - upWindowMs && at < a.now - downWindowMs)
  const ableToScale = stabilized === a.desiredReplicas ? READY_FOR_NEW_SCALE : a.desiredReplicas >= a.currentReplicas ? SCALE_UP_STABILIZED : SCALE_DOWN_STABILIZED

  const h = a.history
  let replicas = stabilized
  let why = WITHIN_RANGE
  if (stabilized > a.currentReplicas) {
    // Until the period's events age out, no further scale-up than where the period started.
    const limit = Math.max(scaleUpLimit(a.currentReplicas, h, up, a.now), a.currentReplicas)
    const [maxAllowed, reason] = a.maxReplicas > limit ? [limit, SCALE_UP_LIMIT] : [a.maxReplicas, TOO_MANY]
    if (stabilized > maxAllowed) [replicas, why] = [maxAllowed, reason]
  } else if (stabilized < a.currentReplicas) {
    const limit = Math.min(scaleDownLimit(a.currentReplicas, h, down, a.now), a.currentReplicas)
    const [minAllowed, reason] = a.minReplicas < limit ? [limit, SCALE_DOWN_LIMIT] : [a.minReplicas, TOO_FEW]
    if (stabilized < minAllowed) [replicas, why] = [minAllowed, reason]
  }
  return { replicas, ableToScale, limited: limited(replicas, stabilized, why) }
}

/** The replicas changed by the events within the last `periodSeconds`. */
function changedWithin(periodSeconds: number, events: readonly ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000
  let sum = 0
  for (const e of events) if (e.at > cutoff) sum += e.change
  return sum
}

function periodStart(current: number, h: ScaleHistory, periodSeconds: number, now: number): number {
  return current - changedWithin(periodSeconds, h.scaleUpEvents, now) + changedWithin(periodSeconds, h.scaleDownEvents, now)
}

/** The most replicas the scale-up policies allow now (selectPolicy Max: the most permissive one; Min: the strictest). */
export function scaleUpLimit(current: number, h: ScaleHistory, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity
  for (const p of rules.policies ?? []) {
    const start = periodStart(current, h, p.periodSeconds, now)
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100))
    result = pick(result, proposed)
  }
  return Number.isFinite(result) ? result : current
}

/** The fewest replicas the scale-down policies allow now (selectPolicy Max: the most permissive one; Min: the strictest). */
export function scaleDownLimit(current: number, h: ScaleHistory, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity
  for (const p of rules.policies ?? []) {
    const start = periodStart(current, h, p.periodSeconds, now)
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100))
    result = pick(result, proposed)
  }
  return Number.isFinite(result) ? result : current
}
