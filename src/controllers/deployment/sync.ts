// One sync of one Deployment: the steps every strategy shares, with their writes.
// It works on a copy of the Deployment, edited as upstream edits its copy (status,
// revision annotation, collisionCount), and keeps the latest copy of each ReplicaSet
// it writes, so later steps of the same pass start from what the API server returned
// instead of a cache that has not caught up.
import { int, rec, semanticEqual, type Json } from '../../api/json.js'
import { errorMessage, type EventRecorder, type EventType, isAlreadyExists, isNotFound, type KubeObject, type Logger, type RestClient, isNamespaceTerminating } from '../../client/index.js'
import { controllerOf, controllerRef } from '../util/controller-ref.js'
import { DEPLOYMENTS, REPLICASETS } from '../util/resources.js'
import { annotationsOf, DEPRECATED_ROLLBACK_TO_ANNOTATION, REVISION_ANNOTATION, replicasAnnotationsNeedUpdate, setReplicasAnnotations } from './annotations.js'
import { FAILED_RS_CREATE, FOUND_NEW_RS, getCondition, newCondition, NEW_REPLICA_SET, PAUSED, PROGRESSING, RESUMED, setCondition, TIMED_OUT } from './conditions.js'
import { collisionCount, minReadySeconds, nameOf, paused, progressDeadlineSeconds, replicas, specOf, templateOf, uidOf } from './fields.js'
import { maxSurge } from './fenceposts.js'
import { maxRevision, replicaSetsToCleanUp, setNewReplicaSetAnnotations } from './history.js'
import { calculateStatus, compactStatus, progressCheckDelay, rolloutStatus } from './progress.js'
import { equalIgnoreHash, findNewReplicaSet, findOldReplicaSets, newReplicaSetFor } from './replica-sets.js'
import { newRSNewReplicas } from './rolling.js'
import { rollbackTo } from './rollback.js'
import { isScalingEvent, type ScalingOperation, scaleSteps } from './scaling.js'

export interface SyncEnv {
  /** The fenced client every write goes through. */
  writer: RestClient
  events: EventRecorder
  logger: Logger
  now: () => Date
  /** The ReplicaSet informer's copy, to tell a ReplicaSet of ours from a hash collision. */
  cachedReplicaSet(namespace: string, name: string): KubeObject | undefined
  /** Sync this Deployment again after `ms`, or rate-limited for a check that is due now. */
  requeueAfter(ms: number): void
  requeueRateLimited(): void
}

export interface Scaled {
  scaled: boolean
  rs: KubeObject
}

/** The API server refused a write because the namespace is being deleted. */

export class DeploymentSync {
  /** The working copy of the Deployment. */
  readonly d: KubeObject
  private readonly rsList: KubeObject[]
  private readonly written = new Map<string, KubeObject>()

  constructor(
    private readonly env: SyncEnv,
    deployment: KubeObject,
    rsList: readonly KubeObject[],
  ) {
    this.d = structuredClone(deployment)
    this.d.status = rec(this.d.status)
    this.rsList = [...rsList]
  }

  private get namespace(): string {
    return this.d.metadata?.namespace ?? ''
  }

  private get status(): Json {
    return this.d.status as Json
  }

  /** The latest copy of a ReplicaSet this pass knows: what a write returned, else what it started with. */
  latest(rs: KubeObject): KubeObject {
    return this.written.get(uidOf(rs)) ?? rs
  }

  private remember(rs: KubeObject): KubeObject {
    this.written.set(uidOf(rs), rs)
    const i = this.rsList.findIndex((x) => uidOf(x) === uidOf(rs))
    if (i >= 0) this.rsList[i] = rs
    else this.rsList.push(rs)
    return rs
  }

  event(type: EventType, reason: string, message: string): void {
    this.env.events.event(this.d, type, reason, message)
  }

  /** Writes the working copy's status (and, as deployments/status allows upstream, its annotations). */
  async updateStatus(): Promise<void> {
    const updated = await this.env.writer.resource(DEPLOYMENTS, this.namespace).updateStatus({ ...this.d, status: compactStatus(this.status) })
    // Later writes of this pass must not fail on the version just written.
    this.d.metadata!.resourceVersion = updated.metadata?.resourceVersion
  }

  /** Writes `d` whole without the rollback annotation (upstream updateDeploymentAndClearRollbackTo). */
  async updateDeploymentAndClearRollbackTo(d: KubeObject): Promise<void> {
    const body = structuredClone(d)
    delete annotationsOf(body)[DEPRECATED_ROLLBACK_TO_ANNOTATION]
    await this.env.writer.resource(DEPLOYMENTS, this.namespace).update(body)
  }

  /**
   * The new ReplicaSet (created when `create` and missing) and every old one, with the
   * revisions brought up to date: the new one's is above every old one's, and the
   * Deployment's follows it.
   */
  async getAllReplicaSetsAndSyncRevision(create: boolean): Promise<{ newRS: KubeObject | undefined; oldRSs: KubeObject[] }> {
    const oldRSs = findOldReplicaSets(this.d, this.rsList)
    const newRS = await this.getNewReplicaSet(oldRSs, create)
    return { newRS, oldRSs }
  }

  private setDeploymentRevision(revision: string): boolean {
    const a = annotationsOf(this.d)
    if (a[REVISION_ANNOTATION] === revision) return false
    a[REVISION_ANNOTATION] = revision
    return true
  }

  private async getNewReplicaSet(oldRSs: readonly KubeObject[], create: boolean): Promise<KubeObject | undefined> {
    const d = this.d
    const existing = findNewReplicaSet(d, this.rsList)
    const newRevision = maxRevision(oldRSs) + 1
    const hasDeadline = progressDeadlineSeconds(d) !== undefined

    if (existing !== undefined) {
      const copy = structuredClone(existing)
      const annotationsUpdated = setNewReplicaSetAnnotations(d, copy, newRevision, true)
      const minReady = minReadySeconds(d)
      if (annotationsUpdated || int(specOf(copy).minReadySeconds) !== minReady) {
        const spec = rec(copy.spec)
        if (minReady === 0) delete spec.minReadySeconds
        else spec.minReadySeconds = minReady
        // The Deployment's revision follows on the next pass, from what this write stored.
        return this.remember(await this.env.writer.resource(REPLICASETS, this.namespace).update(copy))
      }
      let needsUpdate = this.setDeploymentRevision(copy.metadata?.annotations?.[REVISION_ANNOTATION] ?? '')
      // A Deployment that never reported progress starts counting from the ReplicaSet it found.
      if (hasDeadline && getCondition(this.status, PROGRESSING) === undefined) {
        setCondition(this.status, newCondition(PROGRESSING, 'True', FOUND_NEW_RS, `Found new replica set "${nameOf(copy)}"`, this.env.now()))
        needsUpdate = true
      }
      if (needsUpdate) await this.updateStatus()
      return copy
    }
    if (!create) return undefined

    const rs = newReplicaSetFor(d, collisionCount(d), controllerRef(d, 'apps/v1', 'Deployment'))
    const count = newRSNewReplicas(d, [...oldRSs, rs], rs)
    rec(rs.spec).replicas = count
    setNewReplicaSetAnnotations(d, rs, newRevision, false)
    const name = nameOf(rs)
    let created: KubeObject
    let alreadyExists = false
    try {
      created = await this.env.writer.resource(REPLICASETS, this.namespace).create(rs)
    } catch (err) {
      if (isAlreadyExists(err)) {
        alreadyExists = true
        const found = this.env.cachedReplicaSet(this.namespace, name)
        if (found === undefined) throw err
        // Ours from an earlier pass whose creation the cache had not shown yet.
        if (controllerOf(found)?.uid === uidOf(d) && equalIgnoreHash(templateOf(d), templateOf(found))) {
          created = found
        } else {
          // Another template took this name: hash again with a higher collisionCount next pass.
          const before = collisionCount(d) ?? 0
          this.status.collisionCount = before + 1
          try {
            await this.updateStatus()
            this.env.logger.info({ deployment: `${this.namespace}/${nameOf(d)}`, oldCollisionCount: before, newCollisionCount: before + 1 }, 'found a hash collision for deployment - bumping collisionCount to resolve it')
          } catch {
            // The retry of this pass tries again.
          }
          throw err
        }
      } else if (isNamespaceTerminating(err)) {
        throw err
      } else {
        const msg = `Failed to create new replica set "${name}": ${errorMessage(err)}`
        if (hasDeadline) {
          setCondition(this.status, newCondition(PROGRESSING, 'False', FAILED_RS_CREATE, msg, this.env.now()))
          // The creation error is the one to report.
          await this.updateStatus().catch(() => undefined)
        }
        this.event('Warning', FAILED_RS_CREATE, msg)
        throw err
      }
    }
    this.remember(created)
    if (!alreadyExists && count > 0) this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${count}`)
    let needsUpdate = this.setDeploymentRevision(String(newRevision))
    if (!alreadyExists && hasDeadline) {
      setCondition(this.status, newCondition(PROGRESSING, 'True', NEW_REPLICA_SET, `Created new replica set "${name}"`, this.env.now()))
      needsUpdate = true
    }
    if (needsUpdate) await this.updateStatus()
    return created
  }

  /** Scales `rs` to `to` unless it is there already, with a ScalingReplicaSet event. */
  async scaleReplicaSetAndRecordEvent(rs: KubeObject, to: number): Promise<Scaled> {
    if (replicas(rs) === to) return { scaled: false, rs }
    return this.scaleReplicaSet(rs, to, replicas(rs) < to ? 'up' : 'down')
  }

  /** Sets the size and the replica annotations of `rs` when either is off; `scaled` when the size moved. */
  async scaleReplicaSet(rs: KubeObject, to: number, operation: ScalingOperation): Promise<Scaled> {
    const desired = replicas(this.d)
    const max = desired + maxSurge(this.d)
    const from = replicas(rs)
    const sizeNeedsUpdate = from !== to
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs }
    const copy = structuredClone(rs)
    rec(copy.spec).replicas = to
    setReplicasAnnotations(copy, desired, max)
    const updated = this.remember(await this.env.writer.resource(REPLICASETS, this.namespace).update(copy))
    if (sizeNeedsUpdate) this.event('Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${nameOf(updated)} from ${from} to ${to}`)
    return { scaled: sizeNeedsUpdate, rs: updated }
  }

  /** Resizes the ReplicaSets to the Deployment's size, proportionally during a rollout (upstream scale()). */
  async scale(newRS: KubeObject | undefined, oldRSs: readonly KubeObject[]): Promise<void> {
    for (const step of scaleSteps(this.d, newRS, oldRSs)) {
      const rs = this.latest(step.rs)
      if (step.operation === undefined) await this.scaleReplicaSetAndRecordEvent(rs, step.to)
      else await this.scaleReplicaSet(rs, step.to, step.operation)
    }
  }

  /** Deletes old ReplicaSets beyond spec.revisionHistoryLimit that run nothing. */
  async cleanupDeployment(oldRSs: readonly KubeObject[]): Promise<void> {
    for (const rs of replicaSetsToCleanUp(this.d, oldRSs)) {
      try {
        await this.env.writer.resource(REPLICASETS, this.namespace).delete(nameOf(rs), { preconditions: { uid: uidOf(rs) } })
      } catch (err) {
        // One failure stops the pass rather than pile more deletes on a struggling server.
        if (!isNotFound(err)) throw err
      }
    }
  }

  /** Writes the status calculated from the ReplicaSets when it differs. */
  async syncDeploymentStatus(allRSs: readonly (KubeObject | undefined)[], newRS: KubeObject | undefined): Promise<void> {
    const next = calculateStatus(allRSs, newRS, this.d, this.env.now())
    if (semanticEqual(this.status, next)) return
    this.d.status = next
    await this.updateStatus()
  }

  /** As syncDeploymentStatus, judging progress too; an unchanged, unfinished rollout is looked at again at its deadline. */
  async syncRolloutStatus(allRSs: readonly (KubeObject | undefined)[], newRS: KubeObject | undefined): Promise<void> {
    const now = this.env.now()
    const next = rolloutStatus(allRSs, newRS, this.d, now)
    if (semanticEqual(this.status, next)) {
      const delay = progressCheckDelay(this.d, next, now)
      if (delay === 0) this.env.requeueRateLimited()
      else if (delay !== undefined) this.env.requeueAfter(delay)
      return
    }
    this.d.status = next
    await this.updateStatus()
  }

  /**
   * Progressing becomes Unknown/DeploymentPaused while paused and DeploymentResumed on
   * resume, so time spent paused never counts against the progress deadline (a
   * reported timeout is left as it is).
   */
  async checkPausedConditions(): Promise<void> {
    if (progressDeadlineSeconds(this.d) === undefined) return
    const cond = getCondition(this.status, PROGRESSING)
    if (cond?.reason === TIMED_OUT) return
    const pausedCond = cond?.reason === PAUSED
    const now = this.env.now()
    if (paused(this.d) && !pausedCond) {
      setCondition(this.status, newCondition(PROGRESSING, 'Unknown', PAUSED, 'Deployment is paused', now))
    } else if (!paused(this.d) && pausedCond) {
      setCondition(this.status, newCondition(PROGRESSING, 'Unknown', RESUMED, 'Deployment is resumed', now))
    } else {
      return
    }
    await this.updateStatus()
  }

  async isScalingEvent(): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(false)
    return isScalingEvent(this.d, [...oldRSs, newRS])
  }

  /** A paused Deployment or a resize: the ReplicaSets are scaled, nothing is rolled out. */
  async sync(): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(false)
    await this.scale(newRS, oldRSs)
    const latestOld = oldRSs.map((rs) => this.latest(rs))
    const latestNew = newRS === undefined ? undefined : this.latest(newRS)
    // A paused Deployment prunes history here; a rolling one once its rollout completes.
    if (paused(this.d) && rollbackTo(this.d) === undefined) await this.cleanupDeployment(latestOld)
    await this.syncDeploymentStatus([...latestOld, latestNew], latestNew)
  }

  /** A Deployment being deleted only reports status. */
  async syncStatusOnly(): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(false)
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS)
  }
}
