// The dependency graph alone: virtual owners are created and verified, observed
// owners replace them, deletions queue the dependents, foreground and orphan
// transitions ask for the right work, and a virtual delete keeps a node that
// dependents know by other coordinates.
import t from 'tap'
import type { KubeObject, OwnerReference } from '../../../src/client/index.js'
import { DependencyGraph, type GraphActions, type ObjectIdentity } from '../../../src/controllers/garbage-collector/graph.js'

const id = (kind: string, name: string, uid: string, namespace = 'default', apiVersion = kind === 'ReplicaSet' ? 'apps/v1' : 'v1'): ObjectIdentity => ({
  apiVersion,
  kind,
  namespace,
  name,
  uid,
})
const refTo = (o: ObjectIdentity, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, uid: o.uid, ...extra })
const obj = (o: ObjectIdentity, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: { name: o.name, namespace: o.namespace, uid: o.uid, ...meta },
})
const uids = (a: GraphActions, q: 'attemptToDelete' | 'attemptToOrphan' | 'retryLater'): string[] => [...a[q]].map((n) => n.identity.uid).sort()

const rs = id('ReplicaSet', 'web', 'rs-1')
const pod1 = id('Pod', 'web-1', 'pod-1')
const pod2 = id('Pod', 'web-2', 'pod-2')

t.test('a dependent seen before its owner makes a virtual owner to verify', async (t) => {
  const g = new DependencyGraph()
  const a = g.observe(pod1, obj(pod1, { ownerReferences: [refTo(rs, { blockOwnerDeletion: true })] }))
  t.strictSame(uids(a, 'attemptToDelete'), ['rs-1'], 'the virtual owner is verified')
  const owner = g.get('rs-1')!
  t.ok(owner.virtual)
  t.strictSame(owner.identity, rs, 'coordinates from the reference; namespaced kind: the dependent namespace')
  t.strictSame(uids(g.observe(pod2, obj(pod2, { ownerReferences: [refTo(rs)] })), 'attemptToDelete'), [], 'a known owner is not verified again')
  t.equal(owner.dependents.size, 2)
  t.strictSame(
    owner.blockingDependents().map((n) => n.identity.uid),
    ['pod-1'],
  )

  g.observe(rs, obj(rs))
  t.notOk(g.get('rs-1')!.virtual, 'observed: no longer virtual')
  t.equal(g.get('rs-1')!.dependents.size, 2, 'keeps its dependents')
})

t.test('cluster-scoped owner kinds are looked for outside the namespace', async (t) => {
  const g = new DependencyGraph()
  const node = id('Node', 'n1', 'node-1', '')
  g.observe(pod1, obj(pod1, { ownerReferences: [refTo(node)] }))
  t.equal(g.get('node-1')!.identity.namespace, '')
})

t.test('deleting an owner queues its dependents and reports it absent', async (t) => {
  const g = new DependencyGraph()
  g.observe(rs, obj(rs))
  g.observe(pod1, obj(pod1, { ownerReferences: [refTo(rs)] }))
  const a = g.observeDelete('rs-1')
  t.strictSame(uids(a, 'attemptToDelete'), ['pod-1'])
  t.strictSame(a.absent, [rs])
  t.equal(g.get('rs-1'), undefined)
  t.strictSame(uids(g.observeDelete('nothing'), 'attemptToDelete'), [], 'unknown uids are ignored')
})

t.test('foreground: the owner and its dependents are queued once; removing a blocking dependent wakes the owner', async (t) => {
  const g = new DependencyGraph()
  const live = obj(rs)
  g.observe(rs, live)
  g.observe(pod1, obj(pod1, { ownerReferences: [refTo(rs, { blockOwnerDeletion: true })] }))
  const deleting = obj(rs, { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['foregroundDeletion'] })
  const a = g.observe(rs, deleting, live)
  t.strictSame(uids(a, 'attemptToDelete'), ['pod-1', 'rs-1'])
  t.ok(g.get('rs-1')!.deletingDependents)
  t.strictSame(uids(g.observe(rs, { ...deleting }, deleting), 'attemptToDelete'), [], 'no transition, nothing queued')
  // The dependent drops its reference: the owner may finish.
  t.strictSame(uids(g.observe(pod1, obj(pod1, { ownerReferences: [] })), 'attemptToDelete'), ['rs-1'])
  g.observe(pod1, obj(pod1, { ownerReferences: [refTo(rs, { blockOwnerDeletion: true })] }))
  t.strictSame(uids(g.observe(pod1, obj(pod1, { ownerReferences: [refTo(rs, { blockOwnerDeletion: false })] })), 'attemptToDelete'), ['rs-1'], 'unblocked')
  t.strictSame(uids(g.observeDelete('pod-1'), 'attemptToDelete'), ['rs-1'], 'a dependent gone wakes the waiting owner')
})

t.test('orphan: the transition queues the owner once', async (t) => {
  const g = new DependencyGraph()
  const live = obj(rs)
  g.observe(rs, live)
  const orphaning = obj(rs, { deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['orphan'] })
  t.strictSame(uids(g.observe(rs, orphaning, live), 'attemptToOrphan'), ['rs-1'])
  t.strictSame(uids(g.observe(rs, orphaning, orphaning), 'attemptToOrphan'), [])
  t.ok(g.get('rs-1')!.beingDeleted)
  const g2 = new DependencyGraph()
  t.strictSame(uids(g2.observe(rs, orphaning), 'attemptToOrphan'), ['rs-1'], 'first seen already orphaning (a restart)')
})

t.test('virtual deletes', async (t) => {
  const g = new DependencyGraph()
  g.observe(pod1, obj(pod1, { ownerReferences: [refTo(rs)] }))
  const a = g.virtualDelete(rs)
  t.equal(g.get('rs-1'), undefined, 'a verified-absent virtual node goes')
  t.strictSame(uids(a, 'attemptToDelete'), ['pod-1'])

  // Two dependents name the same uid differently: the node stays under the other name.
  const g2 = new DependencyGraph()
  g2.observe(pod1, obj(pod1, { ownerReferences: [refTo(rs)] }))
  g2.observe(pod2, obj(pod2, { ownerReferences: [{ ...refTo(rs), name: 'other' }] }))
  const b = g2.virtualDelete(rs)
  t.strictSame(uids(b, 'attemptToDelete'), ['pod-1'], 'dependents of the absent coordinates are checked')
  t.strictSame(uids(b, 'retryLater'), ['rs-1'], 'the other coordinates are verified next')
  t.equal(g2.get('rs-1')!.identity.name, 'other')

  // An observed node is not removed by a virtual delete for other coordinates.
  const g3 = new DependencyGraph()
  g3.observe(rs, obj(rs))
  g3.observe(pod1, obj(pod1, { ownerReferences: [{ ...refTo(rs), name: 'wrong' }] }))
  const c = g3.virtualDelete({ ...rs, name: 'wrong' })
  t.ok(g3.get('rs-1'))
  t.strictSame(uids(c, 'attemptToDelete'), ['pod-1'])
})

t.test('a reference whose coordinates disagree with the observed owner queues the dependent', async (t) => {
  const g = new DependencyGraph()
  g.observe(rs, obj(rs))
  const a = g.observe(pod1, obj(pod1, { ownerReferences: [{ ...refTo(rs), name: 'not-web' }] }))
  t.strictSame(uids(a, 'attemptToDelete'), ['pod-1'])
})
