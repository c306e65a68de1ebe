// The DaemonSet controller (kube-controller-manager's "daemonset"): one pod on every
// node the template fits (placement.ts), a new node gets its pod, a node that stops
// fitting loses it, a failed pod is replaced, surplus pods on a node are removed
// (the oldest stays). RollingUpdate replaces old pods at most maxUnavailable nodes at a
// time (or, with maxSurge, starts the new pod beside the old one and removes the old
// once the new is available); OnDelete only uses the new template for pods it has to
// make anyway. Templates are kept as ControllerRevisions for rollout history and undo.
import { selectorFromLabelSelector } from '../../api/labels.js'
import {
  DeletedFinalStateUnknown,
  errorMessage,
  type KubeObject,
  metaNamespaceKey,
  RateLimitingQueue,
  runWorkers,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { claimObjects, CONTROLLER_UID_INDEX, CONTROLLER_UID_INDEXERS, controllerOf, controllerRef, ownerKeyOf } from '../util/controller-ref.js'
import { Expectations } from '../util/expectations.js'
import { canonicalJson } from '../util/hash.js'
import { CONTROLLER_REVISION_HASH_LABEL } from '../util/history.js'
import { PodControl, podFromTemplate, slowStartBatch } from '../util/pod-control.js'
import { isPodAvailable, isPodReady, isPodTerminating, podAvailableAt, podPhase } from '../util/pods.js'
import { CONTROLLER_REVISIONS, DAEMONSETS, NODES, PODS } from '../util/resources.js'
import { ensureRevisions, revisionsToPrune, revisionTemplate } from '../util/template-revisions.js'
import { pinToNode, placement, targetNode, withDaemonTolerations } from './placement.js'

type Json = Record<string, unknown>

/** Upstream still labels daemon pods with the set's generation (deprecated). */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation'
/** Upstream's burstReplicas. */
const BURST = 250

export interface DaemonSetControllerOptions {
  now?: () => Date
  workers?: number
}

export function daemonSetControllerWith(opts: DaemonSetControllerOptions = {}): ControllerFactory {
  return (ctx) => newDaemonSetController(ctx, opts)
}

export const daemonSetController: ControllerFactory = daemonSetControllerWith()

/** An int or a percentage of `total`, rounded up (intstr.GetScaledValueFromIntOrPercent). */
export function scaledValue(v: unknown, total: number, fallback: number): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^\d+%$/.test(v)) return Math.ceil((Number(v.slice(0, -1)) * total) / 100)
  return fallback
}

function newDaemonSetController(ctx: ControllerContext, opts: DaemonSetControllerOptions): Controller {
  const now = opts.now ?? (() => new Date())
  const sets = ctx.informers.forResource(DAEMONSETS)
  const pods = ctx.informers.forResource(PODS, { indexers: CONTROLLER_UID_INDEXERS })
  const nodes = ctx.informers.forResource(NODES)
  const revisions = ctx.informers.forResource(CONTROLLER_REVISIONS, { indexers: CONTROLLER_UID_INDEXERS })
  const queue = new RateLimitingQueue<string>(undefined, { name: 'daemonset' })
  const expectations = new Expectations()
  const events = ctx.events('daemonset-controller')
  const podControl = new PodControl(ctx.writer, events)

  const setOf = (o: KubeObject): string | undefined => ownerKeyOf(o, 'DaemonSet', sets.indexer)
  const enqueueMatching = (o: KubeObject): void => {
    for (const s of sets.indexer.byIndex('namespace', o.metadata?.namespace ?? '')) {
      if (selectorFromLabelSelector((s.spec as Json | undefined)?.selector).matches(o.metadata?.labels ?? {})) queue.add(metaNamespaceKey(s))
    }
  }
  const enqueueAll = (): void => {
    for (const s of sets.indexer.list()) queue.add(metaNamespaceKey(s))
  }
  sets.addEventHandler({
    onAdd: (s) => queue.add(metaNamespaceKey(s)),
    onUpdate: (_, s) => queue.add(metaNamespaceKey(s)),
    onDelete: (s) => expectations.delete(s instanceof DeletedFinalStateUnknown ? s.key : metaNamespaceKey(s)),
  })
  pods.addEventHandler({
    onAdd: (p) => {
      const key = setOf(p)
      if (key === undefined) {
        if (controllerOf(p) === undefined) enqueueMatching(p)
        return
      }
      if (isPodTerminating(p)) expectations.deletionObserved(key, metaNamespaceKey(p))
      else expectations.creationObserved(key)
      queue.add(key)
    },
    onUpdate: (old, p) => {
      const key = setOf(p)
      if (key !== undefined) {
        if (isPodTerminating(p) && !isPodTerminating(old)) expectations.deletionObserved(key, metaNamespaceKey(p))
        queue.add(key)
      } else if (controllerOf(p) === undefined) enqueueMatching(p)
      const oldKey = setOf(old)
      if (oldKey !== undefined && oldKey !== key) queue.add(oldKey)
    },
    onDelete: (p) => {
      const pod = p instanceof DeletedFinalStateUnknown ? p.obj : p
      const key = setOf(pod)
      if (key === undefined) return
      expectations.deletionObserved(key, metaNamespaceKey(pod))
      queue.add(key)
    },
  })
  // A node added, relabelled, retainted or removed can change every set's placement.
  nodes.addEventHandler({ onAdd: enqueueAll, onUpdate: (a, b) => (canonicalJson([a.metadata?.labels, a.spec]) !== canonicalJson([b.metadata?.labels, b.spec]) ? enqueueAll() : undefined), onDelete: enqueueAll })
  revisions.addEventHandler({ onDelete: (r) => { const k = setOf(r instanceof DeletedFinalStateUnknown ? r.obj : r); if (k !== undefined) queue.add(k) } })

  async function sync(key: string): Promise<void> {
    const set = sets.indexer.getByKey(key)
    if (set === undefined) {
      expectations.delete(key)
      return
    }
    if (set.metadata?.deletionTimestamp !== undefined) return
    const ns = set.metadata?.namespace ?? ''
    const name = set.metadata?.name ?? ''
    const uid = set.metadata?.uid ?? ''
    const spec = (set.spec ?? {}) as Json
    const selector = selectorFromLabelSelector(spec.selector)
    const ref = controllerRef(set, 'apps/v1', 'DaemonSet')
    const fetchOwner = (): Promise<KubeObject> => ctx.client.resource(DAEMONSETS, ns).get(name)
    const orphansOf = (inf: typeof pods): KubeObject[] => inf.indexer.byIndex('namespace', ns).filter((o) => controllerOf(o) === undefined && selector.matches(o.metadata?.labels ?? {}))
    const podList = await claimObjects(
      { owner: set, apiVersion: 'apps/v1', kind: 'DaemonSet', selector, objects: ctx.writer.resource(PODS, ns), fetchOwner },
      [...pods.indexer.byIndex(CONTROLLER_UID_INDEX, uid), ...orphansOf(pods)],
    )
    const revList = await claimObjects(
      { owner: set, apiVersion: 'apps/v1', kind: 'DaemonSet', selector, objects: ctx.writer.resource(CONTROLLER_REVISIONS, ns), fetchOwner },
      [...revisions.indexer.byIndex(CONTROLLER_UID_INDEX, uid), ...orphansOf(revisions)],
    )
    const revs = await ensureRevisions(ctx.writer, set, ref, revList)
    const hash = revs.update.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? ''
    const template = revisionTemplate(revs.update)
    const podSpec = withDaemonTolerations((template.spec ?? {}) as Json)
    const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0
    const t = now()
    const available = (p: KubeObject): boolean => isPodAvailable(p, minReady, t)
    const isUpdated = (p: KubeObject): boolean => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash

    const byNode = new Map<string, KubeObject[]>()
    for (const p of podList) {
      const node = targetNode(p)
      if (node === undefined) continue
      const list = byNode.get(node) ?? []
      list.push(p)
      byNode.set(node, list)
    }
    const nodeList = nodes.indexer.list()
    const places = new Map(nodeList.map((n) => [n.metadata?.name ?? '', placement(n, podSpec)]))

    const strategy = (spec.updateStrategy ?? {}) as Json
    const rolling = strategy.type !== 'OnDelete'
    const desired = [...places.values()].filter((p) => p.shouldRun).length
    const ru = (strategy.rollingUpdate ?? {}) as Json
    const maxSurge = rolling ? scaledValue(ru.maxSurge, desired, 0) : 0
    const maxUnavailable = rolling ? scaledValue(ru.maxUnavailable, desired, 1) : 0

    const toCreate: string[] = []
    const toDelete: KubeObject[] = []
    let requeueAt: number | undefined
    const waitAvailable = (p: KubeObject): void => {
      const at = podAvailableAt(p, minReady)
      if (at !== undefined && at > t.getTime()) requeueAt = Math.min(requeueAt ?? Infinity, at)
    }

    if (expectations.satisfied(key)) {
      // 1. Placement: a pod where one belongs, none where none does.
      for (const node of nodeList) {
        const nodeName = node.metadata?.name ?? ''
        const place = places.get(nodeName)!
        const onNode = (byNode.get(nodeName) ?? []).filter((p) => !isPodTerminating(p))
        if (place.shouldRun && onNode.length === 0) {
          toCreate.push(nodeName)
          continue
        }
        if (!place.shouldContinueRunning) {
          toDelete.push(...onNode)
          continue
        }
        const failed = onNode.filter((p) => podPhase(p) === 'Failed')
        for (const p of failed) {
          events.event(set, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${p.metadata?.name ?? ''} on node ${nodeName}, will try to kill it`)
          toDelete.push(p)
        }
        const running = onNode.filter((p) => podPhase(p) !== 'Failed').sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)))
        if (running.length === 0 && failed.length > 0 && place.shouldRun) continue
        // More than one: keep the oldest (with maxSurge, the oldest old and the oldest new).
        if (maxSurge > 0) {
          const olds = running.filter((p) => !isUpdated(p))
          const news = running.filter(isUpdated)
          toDelete.push(...olds.slice(1), ...news.slice(1))
        } else {
          toDelete.push(...running.slice(1))
        }
      }
      // Pods pinned to nodes that no longer exist.
      for (const [nodeName, list] of byNode) if (!places.has(nodeName)) toDelete.push(...list.filter((p) => !isPodTerminating(p)))

      // 2. Rolling update.
      if (rolling && toCreate.length === 0) {
        if (maxSurge === 0) {
          let unavailable = 0
          const replaceNow: KubeObject[] = []
          const candidates: KubeObject[] = []
          for (const [nodeName, place] of places) {
            if (!place.shouldRun) continue
            const onNode = (byNode.get(nodeName) ?? []).filter((p) => !isPodTerminating(p) && !toDelete.includes(p))
            if (onNode.length === 0) {
              unavailable++
              continue
            }
            const fresh = onNode.find(isUpdated)
            const old = onNode.find((p) => !isUpdated(p))
            if (fresh !== undefined) {
              if (!available(fresh)) {
                unavailable++
                waitAvailable(fresh)
              }
            } else if (old !== undefined) {
              if (!available(old)) replaceNow.push(old)
              else candidates.push(old)
            }
          }
          toDelete.push(...replaceNow, ...candidates.slice(0, Math.max(0, maxUnavailable - unavailable - replaceNow.length)))
        } else {
          let surging = 0
          for (const [nodeName, place] of places) {
            if (!place.shouldRun) continue
            const onNode = (byNode.get(nodeName) ?? []).filter((p) => !isPodTerminating(p) && !toDelete.includes(p))
            const fresh = onNode.find(isUpdated)
            const old = onNode.find((p) => !isUpdated(p))
            if (old === undefined) continue
            if (fresh === undefined) {
              if (!available(old)) toDelete.push(old)
              else if (surging < maxSurge) {
                toCreate.push(nodeName)
                surging++
              }
            } else if (available(fresh)) toDelete.push(old)
            else {
              surging++
              waitAvailable(fresh)
            }
          }
        }
      }

      // 3. Act, within the burst.
      const creates = toCreate.slice(0, BURST)
      const deletes = [...new Set(toDelete)].slice(0, BURST)
      expectations.expect(key, creates.length, deletes.map((p) => metaNamespaceKey(p)))
      let firstError: unknown
      const deleted = await Promise.allSettled(deletes.map((p) => podControl.delete(p, set)))
      deleted.forEach((r, i) => {
        if (r.status === 'rejected') {
          expectations.deletionObserved(key, metaNamespaceKey(deletes[i]!))
          firstError ??= r.reason
        }
      })
      let attempted = 0
      const labels = { ...(((template.metadata ?? {}) as Json).labels as Record<string, string> | undefined), [CONTROLLER_REVISION_HASH_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: String(set.metadata?.generation ?? 1) }
      const res = await slowStartBatch(creates.length, async () => {
        const nodeName = creates[attempted++]!
        const pod = podFromTemplate({ ...template, metadata: { ...((template.metadata ?? {}) as Json), labels }, spec: pinToNode(podSpec, nodeName) }, name, ref)
        try {
          await podControl.create(ns, pod, set)
        } catch (err) {
          expectations.creationObserved(key)
          throw err
        }
      })
      for (let i = attempted; i < creates.length; i++) expectations.creationObserved(key)
      firstError ??= res.error
      if (firstError !== undefined) {
        await writeStatus()
        throw firstError
      }
    }

    // 4. Revisions beyond the history limit that no pod runs.
    const limit = typeof spec.revisionHistoryLimit === 'number' ? spec.revisionHistoryLimit : 10
    const hashToName = new Map(revs.all.map((r) => [r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '', r.metadata?.name ?? '']))
    for (const r of revisionsToPrune(revs, podList, limit, (p) => hashToName.get(p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? ''))) {
      await ctx.writer.resource(CONTROLLER_REVISIONS, ns).delete(r.metadata?.name ?? '', { preconditions: { uid: r.metadata?.uid } }).catch(() => undefined)
    }
    await writeStatus()
    if (requeueAt !== undefined) queue.addAfter(key, requeueAt - t.getTime() + 10)

    async function writeStatus(): Promise<void> {
      let current = 0
      let misscheduled = 0
      let ready = 0
      let availableCount = 0
      let updated = 0
      for (const [nodeName, list] of byNode) {
        const live = list.filter((p) => !isPodTerminating(p))
        if (live.length === 0) continue
        const place = places.get(nodeName)
        if (place?.shouldRun !== true) {
          misscheduled++
          continue
        }
        current++
        for (const p of live) {
          if (isPodReady(p)) ready++
          if (available(p)) availableCount++
          else waitAvailable(p)
          if (isUpdated(p)) updated++
        }
      }
      const status: Json = {
        ...((set!.status ?? {}) as Json),
        currentNumberScheduled: current,
        numberMisscheduled: misscheduled,
        desiredNumberScheduled: desired,
        numberReady: ready,
        observedGeneration: set!.metadata?.generation,
        updatedNumberScheduled: updated,
        numberAvailable: availableCount,
        numberUnavailable: Math.max(0, desired - availableCount),
        collisionCount: revs.collisionCount,
      }
      if (availableCount === 0) delete status.numberAvailable
      if (status.numberUnavailable === 0) delete status.numberUnavailable
      if (canonicalJson(status) !== canonicalJson(set!.status ?? {})) await ctx.writer.resource(DAEMONSETS, ns).updateStatus({ ...set!, status })
    }
  }

  return {
    name: 'daemonset',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, opts.workers ?? 2, sync, { onError: (key, err) => ctx.logger.warn({ daemonset: key, err: errorMessage(err) }, 'daemonset sync failed') })
    },
  }
}
