// The StatefulSet controller (kube-controller-manager's "statefulset"): pods with a
// stable identity `<set>-<ordinal>` and their own claims, created in order
// (OrderedReady: each one Running and Ready before the next, removed highest first)
// or all at once (Parallel), and rolled to a new template from the highest ordinal
// down to the partition, one pod at a time. Templates are kept as ControllerRevisions
// for `kubectl rollout history|undo`.
//
// No expectations are needed: a pod's name is its ordinal, so a create that a stale
// cache repeats is refused by the API server as AlreadyExists, and a delete carries
// the pod's uid, so it can never hit the pod's successor.
import { selectorFromLabelSelector } from '../../api/labels.js'
import {
  DeletedFinalStateUnknown,
  errorMessage,
  isAlreadyExists,
  isNotFound,
  type KubeObject,
  metaNamespaceKey,
  RateLimitingQueue,
  runWorkers,
} from '../../client/index.js'
import type { Controller, ControllerContext, ControllerFactory } from '../types.js'
import { claimObjects, CONTROLLER_UID_INDEX, CONTROLLER_UID_INDEXERS, controllerOf, controllerRef, ownerKeyOf } from '../util/controller-ref.js'
import { canonicalJson } from '../util/hash.js'
import { CONTROLLER_REVISION_HASH_LABEL } from '../util/history.js'
import { isPodAvailable, isPodReady, isPodTerminating, podAvailableAt, podPhase } from '../util/pods.js'
import { CONTROLLER_REVISIONS, PERSISTENT_VOLUME_CLAIMS, PODS, STATEFULSETS } from '../util/resources.js'
import { applyIdentity, claimName, claimTemplates, identityMatches, newClaim, newPod, ordinalOf, startOrdinal } from './identity.js'
import { ensureRevisions, revisionsToPrune, revisionTemplate } from '../util/template-revisions.js'

type Json = Record<string, unknown>


export interface StatefulSetControllerOptions {
  now?: () => Date
  workers?: number
}

export function statefulSetControllerWith(opts: StatefulSetControllerOptions = {}): ControllerFactory {
  return (ctx) => newStatefulSetController(ctx, opts)
}

export const statefulSetController: ControllerFactory = statefulSetControllerWith()

const isRunningAndReady = (p: KubeObject): boolean => podPhase(p) === 'Running' && isPodReady(p)

function newStatefulSetController(ctx: ControllerContext, opts: StatefulSetControllerOptions): Controller {
  const now = opts.now ?? (() => new Date())
  const sets = ctx.informers.forResource(STATEFULSETS)
  const pods = ctx.informers.forResource(PODS, { indexers: CONTROLLER_UID_INDEXERS })
  const revisions = ctx.informers.forResource(CONTROLLER_REVISIONS, { indexers: CONTROLLER_UID_INDEXERS })
  const claims = ctx.informers.forResource(PERSISTENT_VOLUME_CLAIMS)
  const queue = new RateLimitingQueue<string>(undefined, { name: 'statefulset' })
  const events = ctx.events('statefulset-controller')

  const setOf = (o: KubeObject): string | undefined => ownerKeyOf(o, 'StatefulSet', sets.indexer)
  const enqueueFor = (o: KubeObject | DeletedFinalStateUnknown<KubeObject>): void => {
    const obj = o instanceof DeletedFinalStateUnknown ? o.obj : o
    const key = setOf(obj)
    if (key !== undefined) {
      queue.add(key)
      return
    }
    if (controllerOf(obj) !== undefined) return
    // An orphan: the sets that could adopt it.
    for (const s of sets.indexer.byIndex('namespace', obj.metadata?.namespace ?? '')) {
      if (selectorFromLabelSelector((s.spec as Json | undefined)?.selector).matches(obj.metadata?.labels ?? {})) queue.add(metaNamespaceKey(s))
    }
  }
  sets.addEventHandler({ onAdd: (s) => queue.add(metaNamespaceKey(s)), onUpdate: (_, s) => queue.add(metaNamespaceKey(s)) })
  for (const inf of [pods, revisions]) inf.addEventHandler({ onAdd: enqueueFor, onUpdate: (old, cur) => (enqueueFor(cur), enqueueFor(old)), onDelete: enqueueFor })

  async function ensureClaims(set: KubeObject, ordinal: number, ref: { pod?: KubeObject }): Promise<boolean> {
    const ns = set.metadata?.namespace ?? ''
    const policy = ((set.spec as Json).persistentVolumeClaimRetentionPolicy ?? {}) as Json
    let ready = true
    for (const template of claimTemplates(set)) {
      const name = claimName(template, set.metadata?.name ?? '', ordinal)
      const existing = claims.indexer.getByKey(`${ns}/${name}`)
      if (existing !== undefined) {
        // A claim on its way out cannot be mounted; wait for it to go and make it anew.
        if (existing.metadata?.deletionTimestamp !== undefined) ready = false
        continue
      }
      const claim = newClaim(set, template, ordinal)
      if (policy.whenDeleted === 'Delete') {
        claim.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata?.name ?? '', uid: set.metadata?.uid ?? '', blockOwnerDeletion: true }]
      }
      try {
        await ctx.writer.resource(PERSISTENT_VOLUME_CLAIMS, ns).create(claim)
        events.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${ref.pod?.metadata?.name ?? `${set.metadata?.name ?? ''}-${ordinal}`} in StatefulSet ${set.metadata?.name ?? ''} success`)
      } catch (err) {
        if (isAlreadyExists(err)) continue
        events.event(set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${set.metadata?.name ?? ''}-${ordinal} in StatefulSet ${set.metadata?.name ?? ''} failed error: ${errorMessage(err)}`)
        throw err
      }
    }
    return ready
  }

  async function createPod(set: KubeObject, pod: KubeObject): Promise<void> {
    const setName = set.metadata?.name ?? ''
    try {
      await ctx.writer.resource(PODS, set.metadata?.namespace).create(pod)
      events.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata?.name ?? ''} in StatefulSet ${setName} successful`)
    } catch (err) {
      // Created already (by this controller from a stale cache, or before a failover).
      if (isAlreadyExists(err)) return
      events.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata?.name ?? ''} in StatefulSet ${setName} failed error: ${errorMessage(err)}`)
      throw err
    }
  }

  async function deletePod(set: KubeObject, pod: KubeObject): Promise<void> {
    const setName = set.metadata?.name ?? ''
    try {
      await ctx.writer.resource(PODS, pod.metadata?.namespace).delete(pod.metadata?.name ?? '', { preconditions: { uid: pod.metadata?.uid } })
      events.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata?.name ?? ''} in StatefulSet ${setName} successful`)
    } catch (err) {
      if (isNotFound(err)) return
      events.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata?.name ?? ''} in StatefulSet ${setName} failed error: ${errorMessage(err)}`)
      throw err
    }
  }

  /** whenScaled: Delete — the claims of a pod removed by a scale-down go with it. */
  async function releaseClaimsWithPod(set: KubeObject, pod: KubeObject, ordinal: number): Promise<void> {
    const policy = ((set.spec as Json).persistentVolumeClaimRetentionPolicy ?? {}) as Json
    if (policy.whenScaled !== 'Delete') return
    const ns = set.metadata?.namespace ?? ''
    for (const template of claimTemplates(set)) {
      const claim = claims.indexer.getByKey(`${ns}/${claimName(template, set.metadata?.name ?? '', ordinal)}`)
      if (claim === undefined || claim.metadata?.ownerReferences?.some((r) => r.uid === pod.metadata?.uid)) continue
      const ref = { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', blockOwnerDeletion: true }
      await ctx.writer.resource(PERSISTENT_VOLUME_CLAIMS, ns).patch(claim.metadata?.name ?? '', 'strategic', { metadata: { ownerReferences: [ref], uid: claim.metadata?.uid } })
    }
  }

  async function sync(key: string): Promise<void> {
    const set = sets.indexer.getByKey(key)
    if (set === undefined || set.metadata?.deletionTimestamp !== undefined) return
    const ns = set.metadata?.namespace ?? ''
    const name = set.metadata?.name ?? ''
    const uid = set.metadata?.uid ?? ''
    const spec = (set.spec ?? {}) as Json
    const selector = selectorFromLabelSelector(spec.selector)
    const ref = controllerRef(set, 'apps/v1', 'StatefulSet')
    const fetchOwner = (): Promise<KubeObject> => ctx.client.resource(STATEFULSETS, ns).get(name)
    const orphans = (inf: typeof pods, member: (o: KubeObject) => boolean): KubeObject[] =>
      inf.indexer.byIndex('namespace', ns).filter((o) => controllerOf(o) === undefined && selector.matches(o.metadata?.labels ?? {}) && member(o))
    const podList = await claimObjects(
      { owner: set, apiVersion: 'apps/v1', kind: 'StatefulSet', selector, objects: ctx.writer.resource(PODS, ns), fetchOwner },
      [...pods.indexer.byIndex(CONTROLLER_UID_INDEX, uid), ...orphans(pods, (p) => ordinalOf(name, p) !== undefined)],
    )
    const revList = await claimObjects(
      { owner: set, apiVersion: 'apps/v1', kind: 'StatefulSet', selector, objects: ctx.writer.resource(CONTROLLER_REVISIONS, ns), fetchOwner },
      [...revisions.indexer.byIndex(CONTROLLER_UID_INDEX, uid), ...orphans(revisions, () => true)],
    )
    const revs = await ensureRevisions(ctx.writer, set, ref, revList)
    const currentName = revs.current.metadata?.name ?? ''
    const updateName = revs.update.metadata?.name ?? ''

    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1
    const start = startOrdinal(set)
    const end = start + replicas
    const monotonic = spec.podManagementPolicy !== 'Parallel'
    const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0
    const strategy = (spec.updateStrategy ?? {}) as Json
    const rolling = strategy.type !== 'OnDelete'
    const partition = rolling ? Number(((strategy.rollingUpdate ?? {}) as Json).partition ?? 0) : 0
    const t = now()
    const healthy = (p: KubeObject): boolean => !isPodTerminating(p) && isRunningAndReady(p) && isPodAvailable(p, minReady, t)

    const slots: (KubeObject | undefined)[] = new Array<KubeObject | undefined>(replicas).fill(undefined)
    const condemned: KubeObject[] = []
    for (const p of podList) {
      const o = ordinalOf(name, p)
      if (o === undefined) continue
      if (o >= start && o < end) slots[o - start] = p
      else condemned.push(p)
    }
    condemned.sort((a, b) => ordinalOf(name, b)! - ordinalOf(name, a)!)

    const created: KubeObject[] = []
    const deleted = new Set<KubeObject>()
    let blocked = false
    let requeueAt: number | undefined
    const waitFor = (p: KubeObject): void => {
      const at = podAvailableAt(p, minReady)
      if (at !== undefined && at > t.getTime()) requeueAt = Math.min(requeueAt ?? Infinity, at)
    }

    // 1. Every ordinal in range has a healthy pod, in order when monotonic.
    for (let i = 0; i < replicas && !blocked; i++) {
      const ordinal = start + i
      const pod = slots[i]
      if (pod !== undefined && !isPodTerminating(pod) && (podPhase(pod) === 'Failed' || podPhase(pod) === 'Succeeded')) {
        if (podPhase(pod) === 'Failed') events.event(set, 'Warning', 'RecreatingFailedPod', `StatefulSet ${ns}/${name} is recreating failed Pod ${pod.metadata?.name ?? ''}`)
        else events.event(set, 'Normal', 'RecreatingTerminatedPod', `StatefulSet ${ns}/${name} is recreating terminated Pod ${pod.metadata?.name ?? ''}`)
        await deletePod(set, pod)
        deleted.add(pod)
        if (monotonic) blocked = true
        continue
      }
      if (pod === undefined) {
        if (!(await ensureClaims(set, ordinal, {}))) {
          if (monotonic) blocked = true
          continue
        }
        const fromCurrent = rolling && ordinal < start + partition && currentName !== updateName
        const revision = fromCurrent ? revs.current : revs.update
        const fresh = newPod(set, revisionTemplate(revision), revision.metadata?.name ?? '', ordinal, ref)
        await createPod(set, fresh)
        created.push(fresh)
        if (monotonic) blocked = true
        continue
      }
      if (isPodTerminating(pod)) {
        if (monotonic) blocked = true
        continue
      }
      if (!identityMatches(set, pod, ordinal)) {
        const fixed: KubeObject = { ...pod, metadata: { ...pod.metadata }, spec: { ...(pod.spec as Json) } }
        applyIdentity(set, fixed, ordinal)
        await ctx.writer.resource(PODS, ns).update(fixed)
      }
      await ensureClaims(set, ordinal, { pod })
      if (!healthy(pod)) {
        waitFor(pod)
        if (monotonic) blocked = true
      }
    }

    // 2. Pods past the end go, highest ordinal first (one at a time when monotonic).
    if (!blocked) {
      for (const pod of condemned) {
        if (isPodTerminating(pod)) {
          if (monotonic) break
          continue
        }
        await releaseClaimsWithPod(set, pod, ordinalOf(name, pod)!)
        await deletePod(set, pod)
        deleted.add(pod)
        if (monotonic) break
      }
    }

    // 3. Rolling update: from the highest ordinal down to the partition, one pod at a time.
    const condemnedLeft = condemned.some((p) => !deleted.has(p))
    if (rolling && !blocked && !(monotonic && condemnedLeft)) {
      for (let i = replicas - 1; i >= Math.max(0, partition); i--) {
        const pod = slots[i]
        if (pod === undefined || deleted.has(pod)) continue
        if (pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== updateName && !isPodTerminating(pod)) {
          await deletePod(set, pod)
          deleted.add(pod)
          break
        }
        if (!healthy(pod)) break
      }
    }

    // 4. Revisions beyond the history limit that nothing uses.
    const limit = typeof spec.revisionHistoryLimit === 'number' ? spec.revisionHistoryLimit : 10
    for (const r of revisionsToPrune(revs, podList, limit, (p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL])) {
      await ctx.writer
        .resource(CONTROLLER_REVISIONS, ns)
        .delete(r.metadata?.name ?? '', { preconditions: { uid: r.metadata?.uid } })
        .catch((err: unknown) => {
          if (!isNotFound(err)) throw err
        })
    }

    // 5. Status, from the pods as they are after this pass.
    const live = [...podList.filter((p) => !deleted.has(p) && !isPodTerminating(p) && podPhase(p) !== ''), ...created]
    const revisionOf = (p: KubeObject): string | undefined => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]
    const status: Json = {
      ...((set.status ?? {}) as Json),
      observedGeneration: set.metadata?.generation,
      replicas: live.length,
      readyReplicas: live.filter(isRunningAndReady).length,
      availableReplicas: live.filter((p) => isRunningAndReady(p) && isPodAvailable(p, minReady, t)).length,
      currentReplicas: live.filter((p) => revisionOf(p) === currentName).length,
      updatedReplicas: live.filter((p) => revisionOf(p) === updateName).length,
      currentRevision: currentName,
      updateRevision: updateName,
      collisionCount: revs.collisionCount,
    }
    if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas && status.replicas === replicas) {
      status.currentRevision = updateName
      status.currentReplicas = status.updatedReplicas
    }
    if (canonicalJson(status) !== canonicalJson(set.status ?? {})) {
      await ctx.writer.resource(STATEFULSETS, ns).updateStatus({ ...set, status })
    }
    if (requeueAt !== undefined) queue.addAfter(key, requeueAt - t.getTime() + 10)
  }

  return {
    name: 'statefulset',
    async run(signal) {
      signal.addEventListener('abort', () => queue.shutDown(), { once: true })
      await runWorkers(queue, opts.workers ?? 5, sync, { onError: (key, err) => ctx.logger.warn({ statefulset: key, err: errorMessage(err) }, 'statefulset sync failed') })
    },
  }
}
