// ResourceQuota admission (apiserver's admission/plugin/resourcequota with the core
// evaluators). A write that adds usage in a namespace with quotas is checked against
// each quota that covers it and refused with Kubernetes' messages (`exceeded quota:
// compute, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2`,
// `failed quota: compute: must specify requests.cpu for: web`); otherwise the usage is
// charged to the quota's status.used BEFORE the object is written, with a write
// guarded by the quota's resourceVersion and re-checked on conflict. That is what keeps
// two masters admitting pods at the same moment from both passing the last slot.
//
// Usage goes down through the resourcequota controller (src/controllers/resourcequota),
// as in Kubernetes: it recounts a quota when something it counts is deleted or stops
// counting, and periodically. Admission only gives back the charge of a create that
// did not land (a name collision), which the controller would otherwise only see at
// its next periodic recount. A new or edited quota gets status.hard from spec.hard and
// its usage counted from the objects already in its namespace here too, so the first
// write after it is checked against real figures.
import { Quantity } from '../../api/quantity.js'
import { findResource, type ResourceType } from '../../api/resources.js'
import { clone, semanticEqual } from '../../api/json.js'
import type { ResourceStore } from '../registry/resource-store.js'
import { ApiError } from '../status.js'
import type { KubeObject } from '../watch-cache/types.js'
import { admissionForbidden } from './forbidden.js'
import { NamespaceObjects } from './namespace-objects.js'
import { allEvaluators, evaluatorFor, type Evaluator } from '../../api/quota/evaluators.js'
import { quotaHard, quotaMatches, quotaName, quotaUsed, scopeSelectors } from '../../api/quota/quota-object.js'
import {
  add,
  addInto,
  equals,
  isZero,
  lessThanOrEqual,
  mask,
  negativeNames,
  parseResourceList,
  prettyPrint,
  subtractNonNegative,
  toJson,
  type ResourceList,
} from '../../api/resource-list.js'

type Json = Record<string, unknown>
type Op = 'CREATE' | 'UPDATE' | 'DELETE'

/** The store of a resource (the API server's, looked up when needed). */
export type StoreLookup = (rt: ResourceType) => ResourceStore

export interface ResourceQuotaOptions {
  /** How long a namespace's quotas read past an empty cache are reused (Kubernetes: 30 s). */
  liveTtlMs?: number
  now?: () => Date
}

/** What one admitted write added to one quota. */
interface Charge {
  namespace: string
  quota: string
  amount: ResourceList
}

const WRITER = { dryRun: false, fieldManager: 'kube-apiserver' }

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

/** Without its resourceVersion, so a conflicting write is retried on the newer quota rather than refused. */
function unpinned(q: KubeObject): KubeObject {
  delete rec(q.metadata).resourceVersion
  return q
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.code === 404
}

export class ResourceQuotaAdmission {
  private readonly quotaRt: ResourceType
  private readonly quotas: NamespaceObjects
  private readonly now: () => Date
  private readonly charged = new WeakMap<KubeObject, Charge[]>()
  private readonly queues = new Map<string, Promise<void>>()

  constructor(
    private readonly stores: StoreLookup,
    opts: ResourceQuotaOptions = {},
  ) {
    this.quotaRt = findResource('', 'v1', 'resourcequotas')!
    this.quotas = new NamespaceObjects(() => stores(this.quotaRt), opts.liveTtlMs)
    this.now = opts.now ?? (() => new Date())
  }

  async admit(op: Op, rt: ResourceType, obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<void> {
    if (op === 'DELETE' || !rt.namespaced) return
    const namespace = String(rec(obj.metadata).namespace ?? '')
    if (namespace === '') return
    if (rt === this.quotaRt) await this.prepareQuota(op, namespace, obj, old)
    const ev = evaluatorFor(rt)
    if (ev === undefined || !ev.handles(op, obj, old)) return
    if ((await this.quotas.list(namespace)).length === 0) return
    // One check-and-charge at a time per namespace here; other masters are kept honest
    // by the quota's resourceVersion.
    await this.serialize(namespace, () => this.checkAndCharge(op, rt, ev, namespace, obj, old, dryRun))
  }

  /** The create that was charged did not land: give its usage back. */
  async createFailed(_rt: ResourceType, obj: KubeObject): Promise<void> {
    const charges = this.charged.get(obj)
    if (charges === undefined) return
    this.charged.delete(obj)
    await this.serialize(charges[0]!.namespace, () => this.release(charges))
  }

  // ---- admission of other objects

  private async checkAndCharge(op: Op, rt: ResourceType, ev: Evaluator, namespace: string, obj: KubeObject, old: KubeObject | undefined, dryRun: boolean): Promise<void> {
    const name = String(rec(obj.metadata).name ?? '')
    const forbid = (why: string): ApiError => admissionForbidden(rt, name, why)
    const covering: string[] = []
    for (const q of await this.quotas.list(namespace)) {
      if (!quotaMatches(q, ev, obj)) continue
      const restricted = ev.matchingResources([...quotaHard(q).keys()])
      const why = ev.constraints(restricted, obj)
      if (why !== undefined) throw forbid(`failed quota: ${quotaName(q)}: ${why}`)
      const used = quotaUsed(q)
      if (restricted.some((r) => !used.has(r))) {
        throw forbid(`status unknown for quota: ${quotaName(q)}, resources: ${[...restricted].sort().join(',')}`)
      }
      covering.push(quotaName(q))
    }
    const now = this.now()
    let delta = ev.usage(obj, now)
    const negative = negativeNames(delta)
    if (negative.length > 0) throw forbid(`quota usage is negative for resource(s): ${negative.sort().join(',')}`)
    // An update is charged only for what it adds.
    if (op === 'UPDATE' && old !== undefined) delta = subtractNonNegative(delta, ev.usage(old, now))
    if (isZero(delta) || covering.length === 0) return
    const store = this.stores(this.quotaRt)
    if (dryRun) {
      for (const q of covering) {
        const current = await store.get(namespace, q).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)))
        if (current !== undefined) this.evaluate(current, delta, forbid)
      }
      return
    }
    const charges: Charge[] = []
    try {
      for (const q of covering) {
        const c = await this.charge(store, namespace, q, delta, forbid)
        if (c !== undefined) charges.push(c)
      }
    } catch (err) {
      await this.release(charges)
      throw err
    }
    if (op === 'CREATE' && charges.length > 0) this.charged.set(obj, charges)
  }

  /** The quota's usage with `delta` added, or the refusal when that exceeds a hard limit. */
  private evaluate(q: KubeObject, delta: ResourceList, forbid: (why: string) => ApiError): { requested: ResourceList; used: ResourceList } {
    const hard = quotaHard(q)
    const used = quotaUsed(q)
    const requested = mask(delta, hard.keys())
    const next = add(used, requested)
    const { allowed, exceeded } = lessThanOrEqual(mask(next, requested.keys()), hard)
    if (!allowed) {
      throw forbid(
        `exceeded quota: ${quotaName(q)}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
      )
    }
    return { requested, used: next }
  }

  /** Adds `delta` to one quota's status.used, re-checking against the quota as stored on every attempt. */
  private async charge(store: ResourceStore, namespace: string, quota: string, delta: ResourceList, forbid: (why: string) => ApiError): Promise<Charge | undefined> {
    let requested: ResourceList = new Map()
    try {
      await store.update(
        namespace,
        quota,
        (current) => {
          const q = unpinned(current!)
          const res = this.evaluate(q, delta, forbid)
          requested = res.requested
          if (equals(res.used, quotaUsed(q))) return q
          q.status = { ...rec(q.status), used: toJson(res.used) }
          return q
        },
        WRITER,
        { subresource: 'status' },
      )
    } catch (err) {
      // A quota deleted meanwhile no longer limits anything.
      if (isNotFound(err)) return undefined
      throw err
    }
    return isZero(requested) ? undefined : { namespace, quota, amount: requested }
  }

  /** Takes charges back out of status.used, never below zero; failures are left to the controller. */
  private async release(charges: readonly Charge[]): Promise<void> {
    const store = this.stores(this.quotaRt)
    for (const c of charges) {
      await store
        .update(
          c.namespace,
          c.quota,
          (current) => {
            const q = unpinned(current!)
            const used = quotaUsed(q)
            const next = subtractNonNegative(used, mask(c.amount, used.keys()))
            if (equals(next, used)) return q
            q.status = { ...rec(q.status), used: toJson(next) }
            return q
          },
          WRITER,
          { subresource: 'status' },
        )
        .catch(() => undefined)
    }
  }

  // ---- the quotas themselves

  /**
   * A new quota, or one whose spec.hard changed: status.hard mirrors spec.hard, and
   * usage not yet known is counted from the namespace's objects.
   */
  private async prepareQuota(op: Op, namespace: string, obj: KubeObject, old: KubeObject | undefined): Promise<void> {
    const specHard = rec(obj.spec).hard
    if (op === 'UPDATE' && old !== undefined && semanticEqual(specHard, rec(old.spec).hard) && rec(obj.status).hard !== undefined) return
    const hard = parseResourceList(specHard)
    const known = op === 'UPDATE' ? mask(quotaUsed(obj), hard.keys()) : new Map<string, Quantity>()
    const missing = [...hard.keys()].filter((k) => !known.has(k))
    const counted = await this.recount(namespace, obj, missing, op === 'CREATE')
    obj.status = { ...rec(obj.status), hard: clone(rec(specHard)), used: toJson(add(known, counted)) }
  }

  /** What the namespace's objects use of `names` under this quota's scopes (the controller's CalculateUsage). */
  private async recount(namespace: string, quota: KubeObject, names: readonly string[], includeSelf: boolean): Promise<ResourceList> {
    const total: ResourceList = new Map()
    if (names.length === 0) return total
    const scopes = scopeSelectors(quota)
    const now = this.now()
    for (const ev of allEvaluators()) {
      const matched = ev.matchingResources(names)
      if (matched.length === 0) continue
      for (const m of matched) if (!total.has(m)) total.set(m, Quantity.fromValue(0))
      const items: KubeObject[] = [...(await this.stores(ev.rt).list(namespace, {})).items]
      if (includeSelf && ev.rt === this.quotaRt) items.push(quota)
      for (const o of items) {
        if (scopes.every((sel) => ev.matchesScope(sel, o))) addInto(total, mask(ev.usage(o, now), matched))
      }
    }
    return total
  }

  /** Runs `fn` after every earlier call for the same namespace has finished. */
  private serialize<T>(namespace: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(namespace) ?? Promise.resolve()
    const run = prev.then(fn)
    const tail = run.then(
      () => undefined,
      () => undefined,
    )
    this.queues.set(namespace, tail)
    void tail.then(() => {
      if (this.queues.get(namespace) === tail) this.queues.delete(namespace)
    })
    return run
  }
}
