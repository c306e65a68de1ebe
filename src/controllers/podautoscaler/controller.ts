// The HorizontalPodAutoscaler controller (kube-controller-manager's
// "horizontalpodautoscaling"): every sync period (15 s) each HPA reads its target's
// scale subresource, asks metrics.k8s.io for the usage of the pods the target
// selects, computes the replicas its metrics want (./compute.ts), stabilizes and
// rate-limits that (./normalize.ts), writes the new size through the scale
// subresource, and reports what it saw and did in status (currentReplicas,
// desiredReplicas, currentMetrics, lastScaleTime, the AbleToScale, ScalingActive and
// ScalingLimited conditions) and in Events (SuccessfulRescale, FailedGetScale,
// FailedGetResourceMetric, FailedComputeMetricsReplicas, …).
//
// A target with spec.replicas 0 is left alone (autoscaling disabled). One queue
// item per HPA, re-added one period after each sync, whatever the outcome.
import { type Json, rec } from '../../api/json.js'
import { RESOURCES } from '../../api/resources.js'
import { metaTime } from '../../api/time.js'
import { DeletedFinalStateUnknown, errorMessage, type KubeObject, metaNamespaceKey, RateLimitingQueue, type RateLimiter, runWorkers } from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { HORIZONTAL_POD_AUTOSCALERS, PODS } from '../util/resources.js'
import { computeReplicasForMetrics, type HpaCondition } from './compute.js'
import { ApiMetricsSource, type MetricsSource } from './metrics-source.js'
import { type Behavior, normalizeLegacy, normalizeWithBehavior, type Normalized, ScaleHistory } from './normalize.js'
import { type CalculatorSettings, DEFAULT_CALCULATOR_SETTINGS } from './replica-calculator.js'

export interface HorizontalPodAutoscalerOptions {
  /** --horizontal-pod-autoscaler-sync-period: 15 s. */
  syncPeriodMs?: number
  /** --horizontal-pod-autoscaler-downscale-stabilization: 5 min (HPAs whose behavior sets no scale-down window). */
  downscaleStabilizationMs?: number
  /** --horizontal-pod-autoscaler-tolerance, -cpu-initialization-period, -initial-readiness-delay. */
  calculator?: Partial<CalculatorSettings>
  /** Where usage comes from; default metrics.k8s.io through the controller-manager's client. */
  metrics?: MetricsSource
  /** Wall clock, ms (tests). */
  now?: () => number
}

export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000
export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 5 * 60_000


/** Every item waits one sync period: the HPA's own pace, not a back-off. */
class FixedInterval implements RateLimiter<string> {
  constructor(private readonly ms: number) {}
  when(): number {
    return this.ms
  }
  forget(): void {}
  numRequeues(): number {
    return 0
  }
}

/** Sets a condition in place; its lastTransitionTime changes only with its status. */
export function setCondition(status: Json, c: HpaCondition, now: Date): void {
  const list = Array.isArray(status.conditions) ? (status.conditions as Json[]) : []
  status.conditions = list
  let existing = list.find((x) => x.type === c.type)
  if (existing === undefined) {
    existing = { type: c.type }
    list.push(existing)
  }
  if (existing.status !== c.status) existing.lastTransitionTime = metaTime(now)
  existing.status = c.status
  existing.reason = c.reason
  existing.message = c.message
}

/** The resource a scaleTargetRef names (any served version of its group and kind, as a REST mapper finds it). */
function targetResource(ref: Json): ReturnType<typeof RESOURCES.find> {
  const apiVersion = String(ref.apiVersion ?? '')
  const parts = apiVersion.split('/')
  if (parts.length > 2 || (parts.length === 2 && (parts[0] === '' || parts[1] === ''))) {
    throw new Error(`unexpected GroupVersion string: ${apiVersion}`)
  }
  const group = parts.length === 2 ? parts[0]! : ''
  const kind = String(ref.kind ?? '')
  const rt = RESOURCES.find((r) => r.group === group && r.kind === kind)
  if (rt === undefined) throw new Error(`no matches for kind "${kind}" in group "${group}"`)
  return rt
}

export function horizontalPodAutoscalerControllerWith(opts: HorizontalPodAutoscalerOptions = {}): ControllerFactory {
  return (ctx) => newHorizontalPodAutoscalerController(ctx, opts)
}

export const horizontalPodAutoscalerController: ControllerFactory = horizontalPodAutoscalerControllerWith()

function newHorizontalPodAutoscalerController(ctx: ControllerContext, opts: HorizontalPodAutoscalerOptions): Controller {
  const now = opts.now ?? Date.now
  const syncPeriodMs = opts.syncPeriodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS
  const downscaleStabilizationMs = opts.downscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS
  const settings: CalculatorSettings = { ...DEFAULT_CALCULATOR_SETTINGS, ...opts.calculator }
  const source = opts.metrics ?? new ApiMetricsSource(ctx.client)
  const hpas = ctx.informers.forResource(HORIZONTAL_POD_AUTOSCALERS)
  const pods = ctx.informers.forResource(PODS)
  const queue = new RateLimitingQueue<string>(new FixedInterval(syncPeriodMs), { name: 'horizontalpodautoscaler' })
  const events = ctx.events('horizontal-pod-autoscaler')
  const histories = new Map<string, ScaleHistory>()

  hpas.addEventHandler({
    // A new HPA is looked at right away; after that, once per period.
    onAdd: (hpa) => queue.add(metaNamespaceKey(hpa)),
    onUpdate: (_old, cur) => queue.addRateLimited(metaNamespaceKey(cur)),
    onDelete: (hpa) => queue.forget(metaNamespaceKey(hpa instanceof DeletedFinalStateUnknown ? hpa.obj : hpa)),
  })

  /** Writes status when it differs from what was read. */
  async function updateStatusIfNeeded(hpa: KubeObject, original: string): Promise<void> {
    if (JSON.stringify(hpa.status ?? {}) === original) return
    try {
      await ctx.writer.resource(HORIZONTAL_POD_AUTOSCALERS, hpa.metadata?.namespace).updateStatus(hpa)
    } catch (err) {
      events.event(hpa, 'Warning', 'FailedUpdateStatus', errorMessage(err))
      throw new Error(`failed to update status for ${hpa.metadata?.name ?? ''}: ${errorMessage(err)}`, { cause: err })
    }
  }

  function setStatus(hpa: KubeObject, currentReplicas: number, desiredReplicas: number, currentMetrics: Json[] | undefined, rescaled: boolean, at: Date): void {
    const old = rec(hpa.status)
    hpa.status = {
      ...(rescaled ? { lastScaleTime: metaTime(at) } : old.lastScaleTime != null ? { lastScaleTime: old.lastScaleTime } : {}),
      currentReplicas,
      desiredReplicas,
      ...(currentMetrics !== undefined && currentMetrics.length > 0 ? { currentMetrics } : {}),
      ...(old.conditions != null ? { conditions: old.conditions } : {}),
    }
  }

  async function reconcile(key: string): Promise<void> {
    const cached = hpas.indexer.getByKey(key)
    if (cached === undefined) {
      histories.delete(key)
      return
    }
    const hpa = structuredClone(cached)
    const original = JSON.stringify(hpa.status ?? {})
    hpa.status ??= {}
    const status = hpa.status as Json
    const spec = rec(hpa.spec)
    const ref = rec(spec.scaleTargetRef)
    const namespace = hpa.metadata?.namespace ?? ''
    const reference = `${String(ref.kind ?? '')}/${namespace}/${String(ref.name ?? '')}`
    const at = new Date(now())
    const failGetScale = async (err: unknown, what: string): Promise<never> => {
      events.event(hpa, 'Warning', 'FailedGetScale', errorMessage(err))
      setCondition(status, { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${errorMessage(err)}` }, at)
      await updateStatusIfNeeded(hpa, original)
      throw new Error(`${what}: ${errorMessage(err)}`)
    }

    let rt: NonNullable<ReturnType<typeof targetResource>>
    try {
      rt = targetResource(ref)!
    } catch (err) {
      return failGetScale(err, 'unable to determine resource for scale target reference')
    }
    let scale: KubeObject
    try {
      scale = await ctx.client.resource(rt, namespace).getScale(String(ref.name ?? ''))
    } catch (err) {
      return failGetScale(err, `failed to query scale subresource for ${reference}`)
    }
    setCondition(status, { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" }, at)
    const currentReplicas = Number(rec(scale.spec).replicas ?? 0)
    let history = histories.get(key)
    if (history === undefined) {
      history = new ScaleHistory(currentReplicas, at.getTime())
      histories.set(key, history)
    }

    const minReplicas = typeof spec.minReplicas === 'number' ? spec.minReplicas : 1
    const maxReplicas = Number(spec.maxReplicas ?? 0)
    let desiredReplicas = 0
    let rescaleReason = ''
    let rescale = true
    let currentMetrics: Json[] | undefined
    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false
      setCondition(status, { type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' }, at)
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas'
      desiredReplicas = maxReplicas
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas'
      desiredReplicas = minReplicas
    } else {
      const outcome = await computeReplicasForMetrics({
        namespace,
        metrics: Array.isArray(spec.metrics) ? (spec.metrics as Json[]) : [],
        specReplicas: currentReplicas,
        selector: String(rec(scale.status).selector ?? ''),
        pods: pods.indexer.byIndex('namespace', namespace),
        source,
        settings,
        now: at.getTime(),
      })
      for (const [reason, message] of outcome.events) events.event(hpa, 'Warning', reason, message)
      setCondition(status, outcome.condition, at)
      currentMetrics = outcome.statuses
      if (outcome.replicas === undefined) {
        setStatus(hpa, currentReplicas, Number(rec(hpa.status).desiredReplicas ?? 0), outcome.statuses, false, at)
        await updateStatusIfNeeded(hpa, original).catch((err: unknown) => ctx.logger.warn({ hpa: key, err: errorMessage(err) }, 'hpa status update failed'))
        const err = `failed to compute desired number of replicas based on listed metrics for ${reference}: ${outcome.error ?? ''}`
        events.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', outcome.error ?? '')
        throw new Error(err)
      }
      desiredReplicas = outcome.replicas
      if (desiredReplicas > currentReplicas) rescaleReason = `${outcome.metricName} above target`
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target'
      const args = { history, currentReplicas, desiredReplicas, minReplicas, maxReplicas, now: at.getTime() }
      const behavior = spec.behavior != null ? (spec.behavior as Behavior) : undefined
      const normalized: Normalized = behavior === undefined ? normalizeLegacy(args, downscaleStabilizationMs) : normalizeWithBehavior(args, behavior, downscaleStabilizationMs)
      setCondition(status, { type: 'AbleToScale', status: 'True', ...normalized.ableToScale }, at)
      setCondition(status, { type: 'ScalingLimited', ...normalized.limited }, at)
      desiredReplicas = normalized.replicas
      rescale = desiredReplicas !== currentReplicas
    }

    if (rescale) {
      try {
        await ctx.writer.resource(rt, namespace).updateScale(String(ref.name ?? ''), { ...scale, spec: { ...rec(scale.spec), replicas: desiredReplicas } })
      } catch (err) {
        events.event(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${errorMessage(err)}`)
        setCondition(status, { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${errorMessage(err)}` }, at)
        setStatus(hpa, currentReplicas, Number(rec(hpa.status).desiredReplicas ?? 0), rec(hpa.status).currentMetrics as Json[] | undefined, false, at)
        await updateStatusIfNeeded(hpa, original).catch((e: unknown) => ctx.logger.warn({ hpa: key, err: errorMessage(e) }, 'hpa status update failed'))
        throw new Error(`failed to rescale ${reference}: ${errorMessage(err)}`, { cause: err })
      }
      setCondition(status, { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desiredReplicas}` }, at)
      events.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`)
      history.storeScaleEvent(spec.behavior != null ? (spec.behavior as Behavior) : undefined, currentReplicas, desiredReplicas, at.getTime())
      ctx.logger.info({ hpa: key, from: currentReplicas, to: desiredReplicas, reason: rescaleReason }, 'successful rescale')
    } else {
      desiredReplicas = currentReplicas
    }
    setStatus(hpa, currentReplicas, desiredReplicas, currentMetrics, rescale, at)
    await updateStatusIfNeeded(hpa, original)
  }

  return {
    name: 'horizontalpodautoscaling',
    async run(signal) {
      const stop = (): void => queue.shutDown()
      if (signal.aborted) stop()
      else signal.addEventListener('abort', stop, { once: true })
      // Five workers, as upstream's --concurrent-horizontal-pod-autoscaler-syncs. Every HPA
      // comes back one period later: after a success here, after a failure through
      // runWorkers' rate-limited requeue (which for this queue is the same period).
      await runWorkers(
        queue,
        5,
        async (key) => {
          await reconcile(key)
          if (hpas.indexer.getByKey(key) !== undefined) queue.addRateLimited(key)
        },
        { onError: (key, err) => ctx.logger.warn({ hpa: key, err: errorMessage(err) }, 'hpa sync failed') },
      )
    },
  }
}
