// The garbage collector's dependency graph (upstream's GraphBuilder state): one node
// per object uid seen by an informer, linked to the nodes of its ownerReferences. An
// owner referenced but not (yet) seen gets a "virtual" node that the collector must
// verify with a live GET. The graph only records; each change answers which nodes
// the collector should look at again (attempt to delete, or orphan the dependents
// of), so it is pure and can be tested without an API server.
import { resourceForKind } from '../../api/resources.js'
import type { KubeObject, OwnerReference } from '../../client/index.js'

export const FINALIZER_ORPHAN = 'orphan'
export const FINALIZER_FOREGROUND = 'foregroundDeletion'

/** Where an object is: its apiVersion/kind (how owner references name it), namespace, name and uid. */
export interface ObjectIdentity {
  apiVersion: string
  kind: string
  /** '' for cluster-scoped objects. */
  namespace: string
  name: string
  uid: string
}

export function identityKey(id: ObjectIdentity): string {
  return `${id.apiVersion}/${id.kind}/${id.namespace}/${id.name}/${id.uid}`
}

export function sameIdentity(a: ObjectIdentity, b: ObjectIdentity): boolean {
  return a.uid === b.uid && a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && a.namespace === b.namespace
}

/**
 * The identity an owner reference of `dependentNamespace`'s object points at: owners
 * of a namespaced kind live in the dependent's namespace; cluster-scoped kinds in none.
 * A kind we do not serve is assumed to be where the dependent is (it cannot be looked up anyway).
 */
export function ownerIdentity(ref: OwnerReference, dependentNamespace: string): ObjectIdentity {
  const rt = resourceForKind(ref.apiVersion, ref.kind)
  const namespace = rt === undefined || rt.namespaced ? dependentNamespace : ''
  return { apiVersion: ref.apiVersion, kind: ref.kind, namespace, name: ref.name, uid: ref.uid }
}

export class GraphNode {
  owners: readonly OwnerReference[] = []
  readonly dependents = new Set<GraphNode>()
  /** Made from an owner reference; not (yet) seen by an informer. */
  virtual: boolean
  beingDeleted = false
  /** Being deleted in the foreground: waits for its blocking dependents. */
  deletingDependents = false

  constructor(
    public identity: ObjectIdentity,
    virtual: boolean,
  ) {
    this.virtual = virtual
  }

  /** Dependents whose reference to this node has blockOwnerDeletion. */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = []
    for (const d of this.dependents) {
      if (d.owners.some((r) => r.uid === this.identity.uid && r.blockOwnerDeletion === true)) out.push(d)
    }
    return out
  }
}

/** What a graph change asks of the collector. */
export interface GraphActions {
  /** Nodes to run attemptToDelete on. */
  attemptToDelete: Set<GraphNode>
  /** Owners whose dependents are to be orphaned. */
  attemptToOrphan: Set<GraphNode>
  /** Identities now known to be absent (the collector's absent-owner cache). */
  absent: ObjectIdentity[]
  /** Nodes to look at again later (rate-limited): a virtual node given another identity to verify. */
  retryLater: Set<GraphNode>
}

function noActions(): GraphActions {
  return { attemptToDelete: new Set(), attemptToOrphan: new Set(), absent: [], retryLater: new Set() }
}

function hasFinalizer(obj: KubeObject | undefined, f: string): boolean {
  return (obj?.metadata?.finalizers ?? []).includes(f)
}

function deleting(obj: KubeObject | undefined): boolean {
  const ts = obj?.metadata?.deletionTimestamp
  return ts !== undefined && ts !== null && ts !== ''
}

function refMatches(ref: OwnerReference, dependentNamespace: string, id: ObjectIdentity): boolean {
  return sameIdentity(ownerIdentity(ref, dependentNamespace), id)
}

function refsEqual(a: OwnerReference, b: OwnerReference): boolean {
  return (
    a.uid === b.uid &&
    a.apiVersion === b.apiVersion &&
    a.kind === b.kind &&
    a.name === b.name &&
    (a.controller ?? false) === (b.controller ?? false) &&
    (a.blockOwnerDeletion ?? false) === (b.blockOwnerDeletion ?? false)
  )
}

export class DependencyGraph {
  private readonly nodes = new Map<string, GraphNode>()

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid)
  }

  get size(): number {
    return this.nodes.size
  }

  /** An object added or updated, as an informer saw it (`old`: its previous state, if any). */
  observe(identity: ObjectIdentity, obj: KubeObject, old?: KubeObject): GraphActions {
    const actions = noActions()
    const refs = obj.metadata?.ownerReferences ?? []
    let node = this.nodes.get(identity.uid)
    if (node === undefined) {
      node = new GraphNode(identity, false)
      node.owners = refs
      this.nodes.set(identity.uid, node)
      this.addToOwners(node, refs, actions)
    } else {
      if (!sameIdentity(node.identity, identity)) {
        // Dependents found this uid under other coordinates: let each check its reference.
        for (const d of node.dependents) actions.attemptToDelete.add(d)
        node.identity = identity
      }
      node.virtual = false
      const { added, removed, changed } = diffRefs(node.owners, refs)
      if (added.length > 0 || removed.length > 0 || changed.length > 0) {
        // An owner waiting in the foreground may be waiting on this reference no more.
        for (const r of removed) this.unblocked(r, actions)
        for (const [was, now] of changed) if (was.blockOwnerDeletion === true && now.blockOwnerDeletion !== true) this.unblocked(was, actions)
        node.owners = refs
        this.addToOwners(node, added, actions)
        this.removeFromOwners(node, removed)
      }
    }
    node.beingDeleted = deleting(obj)
    // Transitions into orphaning or foreground deletion (old undefined counts as a transition).
    if (deleting(obj) && hasFinalizer(obj, FINALIZER_ORPHAN) && !(deleting(old) && hasFinalizer(old, FINALIZER_ORPHAN))) {
      actions.attemptToOrphan.add(node)
    }
    if (deleting(obj) && hasFinalizer(obj, FINALIZER_FOREGROUND)) {
      const starts = !(deleting(old) && hasFinalizer(old, FINALIZER_FOREGROUND))
      node.deletingDependents = true
      if (starts) {
        for (const d of node.dependents) actions.attemptToDelete.add(d)
        actions.attemptToDelete.add(node)
      }
    } else {
      node.deletingDependents = false
    }
    return actions
  }

  /** An object an informer saw deleted. */
  observeDelete(uid: string): GraphActions {
    const actions = noActions()
    const node = this.nodes.get(uid)
    if (node === undefined) return actions
    this.remove(node, actions)
    return actions
  }

  /**
   * The collector found `identity` absent (404, or another uid under that name). A
   * virtual node goes, unless some dependents know this uid by other coordinates,
   * which are then verified in turn; an observed node with other coordinates stays.
   */
  virtualDelete(identity: ObjectIdentity): GraphActions {
    const actions = noActions()
    const node = this.nodes.get(identity.uid)
    if (node === undefined) return actions
    const matching: GraphNode[] = []
    const other: GraphNode[] = []
    for (const d of node.dependents) {
      const ref = d.owners.find((r) => r.uid === identity.uid)
      if (ref !== undefined && refMatches(ref, d.identity.namespace, identity)) matching.push(d)
      else other.push(d)
    }
    if (node.virtual && other.length > 0) {
      if (matching.length > 0) {
        actions.absent.push(identity)
        for (const d of matching) actions.attemptToDelete.add(d)
      }
      if (sameIdentity(node.identity, identity)) {
        const d = other[0]!
        const ref = d.owners.find((r) => r.uid === identity.uid)!
        node.identity = ownerIdentity(ref, d.identity.namespace)
        actions.retryLater.add(node)
      }
      return actions
    }
    if (!node.virtual && !sameIdentity(node.identity, identity)) {
      if (matching.length > 0) {
        actions.absent.push(identity)
        for (const d of matching) actions.attemptToDelete.add(d)
      }
      return actions
    }
    this.remove(node, actions)
    return actions
  }

  private remove(node: GraphNode, actions: GraphActions): void {
    this.nodes.delete(node.identity.uid)
    this.removeFromOwners(node, node.owners)
    if (node.dependents.size > 0) actions.absent.push(node.identity)
    for (const d of node.dependents) actions.attemptToDelete.add(d)
    // Owners deleting in the foreground may have been waiting for this one.
    for (const r of node.owners) {
      const owner = this.nodes.get(r.uid)
      if (owner?.deletingDependents === true) actions.attemptToDelete.add(owner)
    }
  }

  private unblocked(ref: OwnerReference, actions: GraphActions): void {
    const owner = this.nodes.get(ref.uid)
    if (owner?.deletingDependents === true) actions.attemptToDelete.add(owner)
  }

  private addToOwners(node: GraphNode, refs: readonly OwnerReference[], actions: GraphActions): void {
    let suspicious = false
    for (const ref of refs) {
      let owner = this.nodes.get(ref.uid)
      if (owner === undefined) {
        owner = new GraphNode(ownerIdentity(ref, node.identity.namespace), true)
        this.nodes.set(ref.uid, owner)
        // A virtual owner must be verified: if it does not exist, its dependents go.
        actions.attemptToDelete.add(owner)
      } else if (!refMatches(ref, node.identity.namespace, owner.identity)) {
        // The uid is known under other coordinates (another namespace, kind or name):
        // the reference may not resolve, so the dependent checks it.
        suspicious = true
      }
      owner.dependents.add(node)
    }
    if (suspicious) actions.attemptToDelete.add(node)
  }

  private removeFromOwners(node: GraphNode, refs: readonly OwnerReference[]): void {
    for (const ref of refs) this.nodes.get(ref.uid)?.dependents.delete(node)
  }
}

function diffRefs(
  before: readonly OwnerReference[],
  after: readonly OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: [OwnerReference, OwnerReference][] } {
  const old = new Map(before.map((r) => [r.uid, r]))
  const cur = new Map(after.map((r) => [r.uid, r]))
  const added = after.filter((r) => !old.has(r.uid))
  const removed = before.filter((r) => !cur.has(r.uid))
  const changed: [OwnerReference, OwnerReference][] = []
  for (const r of after) {
    const o = old.get(r.uid)
    if (o !== undefined && !refsEqual(o, r)) changed.push([o, r])
  }
  return { added, removed, changed }
}
