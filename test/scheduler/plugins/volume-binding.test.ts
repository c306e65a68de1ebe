// VolumeBinding: a pod's claims must exist and be bound unless their class waits for
// the first consumer; bound claims keep the pod where their volumes are; unbound
// WaitForFirstConsumer claims need a matching Available volume on the node or a class
// that can provision there; Reserve assumes what was chosen so the next pod does not
// take it. Then, against an in-process API server with the scheduler running, the
// binding cycle: the scheduler pre-binds static volumes and asks provisioners for
// volumes (selected-node), waits until the test (playing the PV controller and the
// provisioner) binds the claims, and only then binds the pod; a binding that times out
// or whose pod is deleted releases the claim's selected node.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t, { type Test } from 'tap'
import { Registry } from 'prom-client'
import { createApiServer } from '../../../src/apiserver/index.js'
import { MemoryStorage } from '../../../src/apiserver/storage/memory.js'
import { findResource } from '../../../src/api/resources.js'
import { RestClient } from '../../../src/client/rest.js'
import { realClock } from '../../../src/client/clock.js'
import type { KubeObject } from '../../../src/client/types.js'
import { schedulePod, type ScheduleFailure, type ScheduleSuccess } from '../../../src/scheduler/framework/algorithm.js'
import { ListSnapshot } from '../../../src/scheduler/framework/list-snapshot.js'
import { NodeInfo, PodInfo } from '../../../src/scheduler/framework/node-info.js'
import { buildProfile, defaultProfile } from '../../../src/scheduler/framework/profile.js'
import type { BindingHandle, CycleState, Profile, Status, VolumeAssumeCache } from '../../../src/scheduler/framework/types.js'
import { Scheduler } from '../../../src/scheduler/scheduler.js'
import {
  ERR_REASON_BIND_CONFLICT,
  ERR_REASON_NODE_CONFLICT,
  ERR_REASON_PV_NOT_EXIST,
  ERR_REASON_UNBOUND_IMMEDIATE,
  VolumeBinding,
} from '../../../src/scheduler/plugins/volume-binding.js'

const PODS = findResource('', 'v1', 'pods')!
const NODES = findResource('', 'v1', 'nodes')!
const EVENTS = findResource('', 'v1', 'events')!
const PVCS = findResource('', 'v1', 'persistentvolumeclaims')!
const PVS = findResource('', 'v1', 'persistentvolumes')!
const CLASSES = findResource('storage.k8s.io', 'v1', 'storageclasses')!

const SELECTED_NODE = 'volume.kubernetes.io/selected-node'
const BIND_COMPLETED = 'pv.kubernetes.io/bind-completed'

// ---- builders ----

const node = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  spec: {},
  status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' } },
})

const storageClass = (name: string, mode: 'Immediate' | 'WaitForFirstConsumer', provisioner: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name },
  provisioner,
  volumeBindingMode: mode,
  reclaimPolicy: 'Delete',
  ...extra,
})

interface ClaimOpts {
  className?: string
  size?: string
  accessModes?: string[]
  volumeName?: string
  bound?: boolean
  selector?: Record<string, unknown>
  volumeMode?: string
  annotations?: Record<string, string>
  deleting?: boolean
  phase?: string
  owner?: string
}

const claim = (name: string, o: ClaimOpts = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-pvc-${name}`,
    resourceVersion: '10',
    annotations: { ...(o.bound ? { [BIND_COMPLETED]: 'yes' } : {}), ...(o.annotations ?? {}) },
    ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    ...(o.owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'p', uid: o.owner, controller: true }] } : {}),
  },
  spec: {
    accessModes: o.accessModes ?? ['ReadWriteOnce'],
    resources: { requests: { storage: o.size ?? '1Gi' } },
    volumeMode: o.volumeMode ?? 'Filesystem',
    ...(o.className === undefined ? {} : { storageClassName: o.className }),
    ...(o.volumeName === undefined ? {} : { volumeName: o.volumeName }),
    ...(o.selector === undefined ? {} : { selector: o.selector }),
  },
  status: { phase: o.phase ?? (o.bound ? 'Bound' : 'Pending') },
})

interface VolumeOpts {
  className?: string
  size?: string
  accessModes?: string[]
  /** Node affinity: kubernetes.io/hostname In [..]. */
  hosts?: string[]
  /** Node affinity on another label: [key, value]. */
  label?: [string, string]
  claimRef?: string
  phase?: string
  labels?: Record<string, string>
  volumeMode?: string
}

const volume = (name: string, o: VolumeOpts = {}): KubeObject => {
  const exprs: Record<string, unknown>[] = []
  if (o.hosts) exprs.push({ key: 'kubernetes.io/hostname', operator: 'In', values: o.hosts })
  if (o.label) exprs.push({ key: o.label[0], operator: 'In', values: [o.label[1]] })
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, resourceVersion: '5', labels: o.labels ?? {} },
    spec: {
      capacity: { storage: o.size ?? '1Gi' },
      accessModes: o.accessModes ?? ['ReadWriteOnce'],
      volumeMode: o.volumeMode ?? 'Filesystem',
      persistentVolumeReclaimPolicy: 'Retain',
      local: { path: `/mnt/${name}` },
      ...(o.className === undefined ? {} : { storageClassName: o.className }),
      ...(exprs.length === 0 ? {} : { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: exprs }] } } }),
      ...(o.claimRef === undefined ? {} : { claimRef: { kind: 'PersistentVolumeClaim', namespace: 'default', name: o.claimRef, uid: `uid-pvc-${o.claimRef}` } }),
    },
    status: { phase: o.phase ?? 'Available' },
  }
}

const podWith = (name: string, claims: string[], ephemeral: string[] = []): PodInfo =>
  new PodInfo({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-pod-${name}` },
    spec: {
      containers: [{ name: 'c', image: 'x' }],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        ...claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
        ...ephemeral.map((v) => ({ name: v, ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } } })),
      ],
    },
  })

/** Claims, volumes and classes in memory, with assumptions laid over them as the scheduler's cache does. */
class MemoryVolumes implements VolumeAssumeCache {
  readonly claims = new Map<string, KubeObject>()
  readonly pvs = new Map<string, KubeObject>()
  readonly classes = new Map<string, KubeObject>()
  readonly assumedClaims = new Map<string, KubeObject>()
  readonly assumedPvs = new Map<string, KubeObject>()

  constructor(objs: KubeObject[]) {
    for (const o of objs) {
      if (o.kind === 'PersistentVolumeClaim') this.claims.set(`default/${o.metadata!.name!}`, o)
      else if (o.kind === 'PersistentVolume') this.pvs.set(o.metadata!.name!, o)
      else this.classes.set(o.metadata!.name!, o)
    }
  }

  claim(ns: string, name: string) {
    return this.assumedClaims.get(`${ns}/${name}`) ?? this.claims.get(`${ns}/${name}`)
  }
  volume(name: string) {
    return this.assumedPvs.get(name) ?? this.pvs.get(name)
  }
  volumesOfClass(cls: string) {
    return [...this.pvs.keys()].map((n) => this.volume(n)!).filter((pv) => String((pv.spec as any).storageClassName ?? '') === cls)
  }
  storageClass(name: string) {
    return this.classes.get(name)
  }
  assumeClaim(c: KubeObject) {
    this.assumedClaims.set(`${c.metadata!.namespace!}/${c.metadata!.name!}`, c)
  }
  assumeVolume(v: KubeObject) {
    this.assumedPvs.set(v.metadata!.name!, v)
  }
  restoreClaim(ns: string, name: string) {
    this.assumedClaims.delete(`${ns}/${name}`)
  }
  restoreVolume(name: string) {
    this.assumedPvs.delete(name)
  }
  apiClaim(ns: string, name: string) {
    return this.claims.get(`${ns}/${name}`)
  }
  apiVolume(name: string) {
    return this.pvs.get(name)
  }
  nextChange(): Promise<void> {
    return new Promise(() => {})
  }
}

const nodes = (...specs: [string, Record<string, string>?][]): NodeInfo[] => specs.map(([n, l]) => new NodeInfo(node(n, l)))

interface Run {
  pre: Status | { skip: true } | { nodeNames: ReadonlySet<string> } | undefined
  state: CycleState
  /** Per node: 'ok' or the reasons. */
  byNode: Record<string, string>
}

function run(pl: VolumeBinding, pod: PodInfo, all: NodeInfo[], volumes: MemoryVolumes | undefined): Run {
  const state: CycleState = new Map()
  const pre = pl.preFilter(state, pod, new ListSnapshot(all, volumes)) as Run['pre']
  const byNode: Record<string, string> = {}
  for (const n of all) {
    const st = pl.filter(state, pod, n)
    byNode[n.name] = st === undefined ? 'ok' : `${st.code}: ${st.reasons.join(', ')}`
  }
  return { pre, state, byNode }
}

const preStatus = (r: Run): Status => r.pre as Status

// ---- PreFilter ----

t.test('PreFilter: pods without claims skip cheaply; missing, deleted, lost and unbound immediate claims stop the pod', async (t) => {
  const pl = new VolumeBinding()
  const vols = new MemoryVolumes([
    storageClass('fast', 'Immediate', 'example.com/disk'),
    storageClass('late', 'WaitForFirstConsumer', 'example.com/disk'),
    claim('gone', { deleting: true, className: 'late' }),
    claim('lost', { volumeName: 'pv-x', phase: 'Lost', className: 'fast' }),
    claim('unbound-fast', { className: 'fast' }),
    claim('no-class'),
    claim('unknown-class', { className: 'nope' }),
    claim('prebound-late', { className: 'late', volumeName: 'pv-y' }),
    claim('p-cache', { className: 'late', owner: 'someone-else' }),
  ])
  const all = nodes(['n1'])
  const emptyDirOnly = new PodInfo({ metadata: { name: 'e', namespace: 'default' }, spec: { containers: [], volumes: [{ name: 'x', emptyDir: {} }] } })
  t.same(pl.preFilter(new Map(), emptyDirOnly, new ListSnapshot(all, vols)), { skip: true }, 'no claims: skip')
  t.same(pl.preFilter(new Map(), new PodInfo({ metadata: { name: 'b', namespace: 'default' }, spec: { containers: [] } }), new ListSnapshot(all)), { skip: true })

  const expectStatus = (claims: string[], reason: string, ephemeral: string[] = []) => {
    const st = preStatus(run(pl, podWith('p', claims, ephemeral), all, vols))
    t.equal(st.code, 'UnschedulableAndUnresolvable', reason)
    t.same(st.reasons, [reason])
    t.equal(st.plugin, 'VolumeBinding')
  }
  expectStatus(['missing'], 'persistentvolumeclaim "missing" not found')
  expectStatus(['gone'], 'persistentvolumeclaim "gone" is being deleted')
  expectStatus(['lost'], 'persistentvolumeclaim "lost" bound to non-existent persistentvolume "pv-x"')
  expectStatus(['unbound-fast'], ERR_REASON_UNBOUND_IMMEDIATE)
  expectStatus(['no-class'], ERR_REASON_UNBOUND_IMMEDIATE)
  expectStatus(['unknown-class'], ERR_REASON_UNBOUND_IMMEDIATE)
  expectStatus(['prebound-late'], ERR_REASON_UNBOUND_IMMEDIATE)
  expectStatus([], 'waiting for ephemeral volume controller to create the persistentvolumeclaim "p-scratch2"', ['scratch2'])
  expectStatus([], 'PVC default/p-cache was not created for pod default/p (pod is not owner)', ['cache'])
  t.same(preStatus(run(pl, podWith('p', ['missing']), all, undefined)).reasons, ['persistentvolumeclaim "missing" not found'], 'a snapshot without volume listers finds no claim')
})

t.test('a class without volumeBindingMode is an error, as upstream', async (t) => {
  const vols = new MemoryVolumes([{ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'odd' }, provisioner: 'x' }, claim('c', { className: 'odd' })])
  const st = preStatus(run(new VolumeBinding(), podWith('p', ['c']), nodes(['n1']), vols))
  t.equal(st.code, 'Error')
  t.same(st.reasons, ['VolumeBindingMode not set for StorageClass "odd"'])
})

// ---- Filter: bound claims ----

t.test('bound claims: the volume must admit the node; local volumes name the only candidates', async (t) => {
  const pl = new VolumeBinding()
  const vols = new MemoryVolumes([
    storageClass('fast', 'Immediate', 'example.com/disk'),
    volume('pv-n2', { className: 'fast', hosts: ['n2'], claimRef: 'data', phase: 'Bound' }),
    volume('pv-zone', { className: 'fast', label: ['zone', 'b'], claimRef: 'zoned', phase: 'Bound' }),
    volume('pv-any', { className: 'fast', claimRef: 'anywhere', phase: 'Bound' }),
    claim('data', { className: 'fast', volumeName: 'pv-n2', bound: true }),
    claim('zoned', { className: 'fast', volumeName: 'pv-zone', bound: true }),
    claim('anywhere', { className: 'fast', volumeName: 'pv-any', bound: true }),
    claim('dangling', { className: 'fast', volumeName: 'pv-gone', bound: true }),
    claim('status-only', { className: 'fast', volumeName: 'pv-any', phase: 'Bound' }),
  ])
  const all = nodes(['n1', { zone: 'a' }], ['n2', { zone: 'b' }], ['n3', { zone: 'b' }])

  const local = run(pl, podWith('p', ['data']), all, vols)
  t.same([...(local.pre as { nodeNames: Set<string> }).nodeNames], ['n2'], 'a hostname-pinned volume names its node')
  t.same(local.byNode, { n1: `UnschedulableAndUnresolvable: ${ERR_REASON_NODE_CONFLICT}`, n2: 'ok', n3: `UnschedulableAndUnresolvable: ${ERR_REASON_NODE_CONFLICT}` })

  const zoned = run(pl, podWith('p', ['zoned', 'anywhere']), all, vols)
  t.equal(zoned.pre, undefined, 'other affinities do not narrow the nodes up front')
  t.same(zoned.byNode, { n1: `UnschedulableAndUnresolvable: ${ERR_REASON_NODE_CONFLICT}`, n2: 'ok', n3: 'ok' })

  const dangling = run(pl, podWith('p', ['dangling']), all, vols)
  t.equal(dangling.byNode.n1, `UnschedulableAndUnresolvable: ${ERR_REASON_PV_NOT_EXIST}`)

  t.same(run(pl, podWith('p', ['status-only']), all, vols).byNode, { n1: 'ok', n2: 'ok', n3: 'ok' }, 'a claim whose status says Bound counts as bound')

  const conflict = new MemoryVolumes([...vols.pvs.values(), ...vols.claims.values(), ...vols.classes.values(), volume('pv-n3', { hosts: ['n3'], claimRef: 'other', phase: 'Bound' }), claim('other', { volumeName: 'pv-n3', bound: true })])
  const split = run(pl, podWith('p', ['data', 'other']), all, conflict)
  t.same([...(split.pre as { nodeNames: Set<string> }).nodeNames], [], 'volumes pinned to different nodes leave none')
})

// ---- Filter: WaitForFirstConsumer ----

t.test('WaitForFirstConsumer: the smallest matching Available volume on the node, else provisioning', async (t) => {
  const pl = new VolumeBinding()
  const objs = [
    storageClass('static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'),
    volume('big-n1', { className: 'static', size: '10Gi', hosts: ['n1'] }),
    volume('small-n1', { className: 'static', size: '2Gi', hosts: ['n1'] }),
    volume('tiny-n1', { className: 'static', size: '500Mi', hosts: ['n1'] }),
    volume('rox-n2', { className: 'static', size: '5Gi', hosts: ['n2'], accessModes: ['ReadOnlyMany'] }),
    volume('block-n2', { className: 'static', size: '5Gi', hosts: ['n2'], volumeMode: 'Block' }),
    volume('pending-n2', { className: 'static', size: '5Gi', hosts: ['n2'], phase: 'Pending' }),
    volume('taken-n2', { className: 'static', size: '5Gi', hosts: ['n2'], claimRef: 'someone' }),
    volume('other-class-n2', { className: 'other', size: '5Gi', hosts: ['n2'] }),
    volume('labelled-n3', { className: 'static', size: '5Gi', hosts: ['n3'], labels: { tier: 'gold' } }),
    claim('c', { className: 'static', size: '1Gi' }),
    claim('gold', { className: 'static', size: '1Gi', selector: { matchLabels: { tier: 'gold' } } }),
  ]
  const vols = new MemoryVolumes(objs)
  const all = nodes(['n1'], ['n2'], ['n3'])
  const r = run(pl, podWith('p', ['c']), all, vols)
  t.equal(r.pre, undefined)
  t.same(r.byNode, { n1: 'ok', n2: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`, n3: 'ok' }, 'n2 has only volumes that do not match; n3 has one without a selector to fail')
  // Reserve on n1 pre-binds the smallest volume that is big enough.
  const h = handle(vols)
  t.equal(pl.reserve(r.state, podWith('p', ['c']), 'n1', h), undefined)
  const assumed = vols.assumedPvs.get('small-n1')
  t.ok(assumed, 'small-n1 is assumed')
  t.match((assumed!.spec as any).claimRef, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'c', uid: 'uid-pvc-c', apiVersion: 'v1' })
  t.equal(assumed!.metadata!.annotations!['pv.kubernetes.io/bound-by-controller'], 'yes')
  t.equal(vols.apiVolume('small-n1')!.spec && (vols.apiVolume('small-n1')!.spec as any).claimRef, undefined, 'the informer copy is untouched')

  // The next pod does not get the assumed volume on n1.
  const next = run(pl, podWith('q', ['gold']), all, vols)
  t.same(next.byNode, { n1: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`, n2: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`, n3: 'ok' }, 'the selector admits only the gold volume')
  const q = new MemoryVolumes([...objs, claim('c2', { className: 'static', size: '1Gi' })])
  q.assumedPvs.set('small-n1', assumed!)
  q.assumedPvs.set('tiny-n1', volume('tiny-n1', { className: 'static', size: '500Mi', hosts: ['n1'], claimRef: 'x' }))
  const second = run(pl, podWith('q', ['c2']), all, q)
  t.equal(second.byNode.n1, 'ok', 'big-n1 is still free')
  pl.reserve(second.state, podWith('q', ['c2']), 'n1', handle(q))
  t.ok(q.assumedPvs.has('big-n1'))

  pl.unreserve(r.state, podWith('p', ['c']), 'n1', h)
  t.notOk(vols.assumedPvs.has('small-n1'), 'Unreserve forgets the assumption')
})

t.test('one pod, two claims: a volume goes to one claim only', async (t) => {
  const vols = new MemoryVolumes([
    storageClass('static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'),
    volume('a', { className: 'static', hosts: ['n1'] }),
    volume('b', { className: 'static', hosts: ['n2'] }),
    volume('c', { className: 'static', hosts: ['n2'] }),
    claim('x', { className: 'static' }),
    claim('y', { className: 'static' }),
  ])
  t.same(run(new VolumeBinding(), podWith('p', ['x', 'y', 'x']), nodes(['n1'], ['n2']), vols).byNode, { n1: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`, n2: 'ok' })
})

t.test('dynamic provisioning: a provisioner, the allowed topologies, a node already selected', async (t) => {
  const pl = new VolumeBinding()
  const vols = new MemoryVolumes([
    storageClass('local-path', 'WaitForFirstConsumer', 'raftplane.io/local-path'),
    storageClass('zonal', 'WaitForFirstConsumer', 'example.com/zonal', { allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['a', 'c'] }] }] }),
    storageClass('static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'),
    volume('pv-n3', { className: 'local-path', hosts: ['n3'], size: '5Gi' }),
    claim('lp', { className: 'local-path', size: '1Gi' }),
    claim('z', { className: 'zonal' }),
    claim('s', { className: 'static' }),
    claim('chosen', { className: 'local-path', annotations: { [SELECTED_NODE]: 'n2' } }),
  ])
  const all = nodes(['n1', { zone: 'a' }], ['n2', { zone: 'b' }], ['n3', { zone: 'c' }])
  const lp = run(pl, podWith('p', ['lp']), all, vols)
  t.same(lp.byNode, { n1: 'ok', n2: 'ok', n3: 'ok' }, 'local-path provisions on any node')
  const h = handle(vols)
  pl.reserve(lp.state, podWith('p', ['lp']), 'n1', h)
  t.equal(vols.assumedClaims.get('default/lp')?.metadata?.annotations?.[SELECTED_NODE], 'n1', 'Reserve assumes the claim with selected-node')
  pl.unreserve(lp.state, podWith('p', ['lp']), 'n1', h)
  t.equal(vols.assumedClaims.size, 0)
  const onN3 = run(pl, podWith('p', ['lp']), all, vols)
  pl.reserve(onN3.state, podWith('p', ['lp']), 'n3', h)
  t.ok(vols.assumedPvs.has('pv-n3'), 'where an Available volume matches, it is used rather than provisioning')
  t.equal(vols.assumedClaims.size, 0)
  pl.unreserve(onN3.state, podWith('p', ['lp']), 'n3', h)

  t.same(run(pl, podWith('p', ['z']), all, vols).byNode, { n1: 'ok', n2: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`, n3: 'ok' }, 'allowedTopologies')
  t.same(run(pl, podWith('p', ['s']), all, vols).byNode, {
    n1: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`,
    n2: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`,
    n3: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`,
  }, 'no provisioner, no volume')
  t.same(run(pl, podWith('p', ['chosen']), all, vols).byNode, { n1: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}`, n2: 'ok', n3: `UnschedulableAndUnresolvable: ${ERR_REASON_BIND_CONFLICT}` }, 'a selected node is the only one')
})

t.test('in the default profile: the pod goes where its volume is, or the message says why not', async (t) => {
  const vols = new MemoryVolumes([
    storageClass('static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'),
    volume('pv-n3', { className: 'static', hosts: ['n3'] }),
    claim('c', { className: 'static' }),
    claim('big', { className: 'static', size: '5Gi' }),
  ])
  const all = nodes(['n1'], ['n2'], ['n3'])
  const ok = schedulePod(defaultProfile(), new ListSnapshot(all, vols), podWith('p', ['c'])) as ScheduleSuccess
  t.equal(ok.nodeName, 'n3')
  const no = schedulePod(defaultProfile(), new ListSnapshot(all, vols), podWith('p', ['big'])) as ScheduleFailure
  t.equal(no.message, `0/3 nodes are available: 3 ${ERR_REASON_BIND_CONFLICT}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.`)
  t.same(no.failedPlugins, ['VolumeBinding'])
  const plain = schedulePod(defaultProfile(), new ListSnapshot(all), new PodInfo({ metadata: { name: 'x', namespace: 'default' }, spec: { containers: [] } }))
  t.ok(plain.ok, 'pods without claims are untouched')
})

t.test('configuration: bindTimeoutSeconds, and what is not supported', async (t) => {
  const vb = (p: Profile) => p.preBind!.find((x) => x.name === 'VolumeBinding') as VolumeBinding
  t.equal(vb(defaultProfile()).bindTimeoutSeconds, 600)
  t.same(defaultProfile().reserve!.map((p) => p.name), ['VolumeBinding'])
  t.equal(vb(buildProfile({ pluginConfig: [{ name: 'VolumeBinding', args: { bindTimeoutSeconds: 30 } }] })).bindTimeoutSeconds, 30)
  t.throws(() => buildProfile({ pluginConfig: [{ name: 'VolumeBinding', args: { bindTimeoutSeconds: -1 } }] }), /pluginConfig\[0\]\.args\.bindTimeoutSeconds: Invalid value: -1: invalid BindTimeoutSeconds, should not be a negative value/)
  t.throws(() => buildProfile({ pluginConfig: [{ name: 'VolumeBinding', args: { shape: [{ utilization: 0, score: 0 }] } }] }), /shape: .*unsupported when VolumeCapacityPriority feature is disabled/)
  const off = buildProfile({ plugins: { multiPoint: { disabled: [{ name: 'VolumeBinding' }] } } })
  t.notOk(off.filters.some((f) => f.name === 'VolumeBinding'))
  t.same(off.reserve, [])
  t.same(off.preBind, [])
  t.doesNotThrow(() => buildProfile({ plugins: { score: { enabled: [{ name: 'VolumeBinding', weight: 1 }] } } }), 'upstream configs that score with it still load')
})

function handle(volumes: VolumeAssumeCache): BindingHandle {
  return { writer: undefined as unknown as RestClient, volumes, node: () => undefined, clock: realClock, signal: new AbortController().signal }
}

// ---- the binding cycle, against an API server ----

interface Cluster {
  client: RestClient
}

async function setup(t: Test, profiles?: Profile[]): Promise<Cluster> {
  const api = createApiServer({ storage: new MemoryStorage(), metrics: new Registry() })
  const port = await api.listen({ host: '127.0.0.1', port: 0 })
  await api.ready()
  const client = new RestClient({ urls: `http://127.0.0.1:${port}`, qps: 0 })
  const abort = new AbortController()
  const running = new Scheduler({ client, writer: client, host: 'test-master', rng: () => 0, ...(profiles ? { profiles } : {}) }).run(abort.signal)
  t.teardown(async () => {
    abort.abort()
    await running
    await api.stop()
  })
  for (const n of ['n1', 'n2', 'n3']) await client.resource(NODES).create(node(n))
  return { client }
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const apiPod = (name: string, claims: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'x' }], volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) },
})

const apiClaim = (name: string, className: string): KubeObject => {
  const c = claim(name, { className })
  return { ...c, metadata: { name, namespace: 'default' }, status: undefined }
}

/** A volume as a user creates it (no resourceVersion). */
const newVolume = (name: string, o: VolumeOpts = {}): KubeObject => {
  const v = volume(name, o)
  return { ...v, metadata: { name, labels: v.metadata!.labels! } }
}

const nodeOf = async (c: RestClient, name: string): Promise<string | undefined> => {
  const p = await c.resource(PODS, 'default').get(name)
  const n = (p.spec as any).nodeName as string | undefined
  return n === undefined || n === '' ? undefined : n
}

/** What the PV controller does once a volume is pre-bound to a claim: both are Bound. */
async function completeBinding(c: RestClient, pvName: string, claimName: string): Promise<void> {
  const pv = await c.resource(PVS).get(pvName)
  await c.resource(PVS).updateStatus({ ...pv, status: { phase: 'Bound' } })
  const pvc = await c.resource(PVCS, 'default').get(claimName)
  const bound = await c.resource(PVCS, 'default').update({
    ...pvc,
    metadata: { ...pvc.metadata, annotations: { ...pvc.metadata?.annotations, [BIND_COMPLETED]: 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' } },
    spec: { ...(pvc.spec as object), volumeName: pvName },
  })
  await c.resource(PVCS, 'default').updateStatus({ ...bound, status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } } })
}

/** What a provisioner does for a claim with selected-node: a volume on that node, pre-bound to the claim. */
async function provision(c: RestClient, claimName: string, nodeName: string): Promise<string> {
  const pvc = await c.resource(PVCS, 'default').get(claimName)
  const pvName = `pvc-${pvc.metadata!.uid!}`
  const pv = newVolume(pvName, { className: String((pvc.spec as any).storageClassName), hosts: [nodeName] })
  await c.resource(PVS).create({
    ...pv,
    spec: { ...(pv.spec as object), claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: claimName, uid: pvc.metadata!.uid } },
  })
  return pvName
}

const podScheduledCondition = async (c: RestClient, name: string): Promise<any> => {
  const p = await c.resource(PODS, 'default').get(name)
  const cond = ((p.status as any)?.conditions ?? []).find((x: any) => x.type === 'PodScheduled')
  return cond?.status === 'False' ? cond : undefined
}

t.test('scheduler: a bound claim keeps the pod on its volume’s node; an unbound Immediate claim waits for the PV controller', async (t) => {
  const { client } = await setup(t)
  await client.resource(CLASSES).create(storageClass('fast', 'Immediate', 'example.com/disk'))
  await client.resource(PVS).create(newVolume('pv-n2', { className: 'fast', hosts: ['n2'] }))
  await client.resource(PVCS, 'default').create(apiClaim('data', 'fast'))
  await completeBinding(client, 'pv-n2', 'data')
  await client.resource(PODS, 'default').create(apiPod('on-n2', ['data']))
  t.equal(await eventually('on-n2 bound', () => nodeOf(client, 'on-n2')), 'n2')

  await client.resource(PVCS, 'default').create(apiClaim('later', 'fast'))
  await client.resource(PODS, 'default').create(apiPod('waits', ['later']))
  const cond = await eventually('PodScheduled=False', () => podScheduledCondition(client, 'waits'))
  t.equal(cond.reason, 'Unschedulable')
  t.equal(cond.message, '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.')
  const ev = await eventually('FailedScheduling', async () => {
    const items = (await client.resource(EVENTS, 'default').list()).items as any[]
    return items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'waits')
  })
  t.match(ev.message, /pod has unbound immediate PersistentVolumeClaims/)
  await new Promise((r) => setTimeout(r, 300))
  t.equal(await nodeOf(client, 'waits'), undefined, 'still waiting')

  // The PV controller binds it: the claim's update brings the pod back, to the volume's node.
  await client.resource(PVS).create(newVolume('pv-n3', { className: 'fast', hosts: ['n3'] }))
  await completeBinding(client, 'pv-n3', 'later')
  t.equal(await eventually('waits bound', () => nodeOf(client, 'waits')), 'n3')
})

t.test('scheduler: a WaitForFirstConsumer claim is provisioned on the chosen node before the pod is bound', async (t) => {
  const { client } = await setup(t)
  await client.resource(CLASSES).create(storageClass('local-path', 'WaitForFirstConsumer', 'raftplane.io/local-path'))
  await client.resource(PVCS, 'default').create(apiClaim('data', 'local-path'))
  await client.resource(PODS, 'default').create(apiPod('app', ['data']))
  const selected = await eventually('selected-node', async () => (await client.resource(PVCS, 'default').get('data')).metadata?.annotations?.[SELECTED_NODE])
  t.ok(['n1', 'n2', 'n3'].includes(selected))
  await new Promise((r) => setTimeout(r, 300))
  t.equal(await nodeOf(client, 'app'), undefined, 'the pod is not bound while its claim is unbound')
  const pv = await provision(client, 'data', selected)
  await completeBinding(client, pv, 'data')
  t.equal(await eventually('app bound', () => nodeOf(client, 'app')), selected, 'the pod goes where its volume was provisioned')
})

t.test('scheduler: a WaitForFirstConsumer claim gets the static volume on the one node that has it', async (t) => {
  const { client } = await setup(t)
  await client.resource(CLASSES).create(storageClass('local-static', 'WaitForFirstConsumer', 'kubernetes.io/no-provisioner'))
  await client.resource(PVS).create(newVolume('disk-n3', { className: 'local-static', hosts: ['n3'], size: '5Gi' }))
  await client.resource(PVS).create(newVolume('small-n1', { className: 'local-static', hosts: ['n1'], size: '100Mi' }))
  for (const name of ['disk-n3', 'small-n1']) {
    const pv = await client.resource(PVS).get(name)
    await client.resource(PVS).updateStatus({ ...pv, status: { phase: 'Available' } })
  }
  await client.resource(PVCS, 'default').create(apiClaim('data', 'local-static'))
  await client.resource(PODS, 'default').create(apiPod('app', ['data']))
  const ref = await eventually('claimRef on disk-n3', async () => ((await client.resource(PVS).get('disk-n3')).spec as any).claimRef)
  t.match(ref, { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data' })
  t.ok(ref.uid, 'the claimRef carries the claim’s uid')
  t.equal(((await client.resource(PVS).get('disk-n3')).metadata as any).annotations['pv.kubernetes.io/bound-by-controller'], 'yes')
  t.equal(await nodeOf(client, 'app'), undefined, 'not bound before the claim is')
  await completeBinding(client, 'disk-n3', 'data')
  t.equal(await eventually('app bound', () => nodeOf(client, 'app')), 'n3')
})

t.test('scheduler: a binding that times out releases the claim’s node and is retried with back-off', async (t) => {
  const profile = buildProfile({ pluginConfig: [{ name: 'VolumeBinding', args: { bindTimeoutSeconds: 1 } }] })
  const { client } = await setup(t, [profile])
  await client.resource(CLASSES).create(storageClass('local-path', 'WaitForFirstConsumer', 'raftplane.io/local-path'))
  await client.resource(PVCS, 'default').create(apiClaim('data', 'local-path'))
  const watch = await client.resource(PVCS, 'default').watch({ resourceVersion: '0' })
  const seen: (string | undefined)[] = []
  void (async () => {
    for await (const e of watch) seen.push((e.object as KubeObject).metadata?.annotations?.[SELECTED_NODE])
  })().catch(() => {})
  t.teardown(() => watch.stop())
  await client.resource(PODS, 'default').create(apiPod('app', ['data']))
  const ev = await eventually('FailedScheduling after the timeout', async () => {
    const items = (await client.resource(EVENTS, 'default').list()).items as any[]
    return items.find((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'app')
  })
  t.equal(ev.message, 'running PreBind plugin "VolumeBinding": binding volumes: context deadline exceeded')
  await eventually('the annotation set, then removed', async () => {
    const i = seen.findIndex((s) => s !== undefined)
    return i >= 0 && seen.slice(i).some((s) => s === undefined) ? true : undefined
  })
  const cond = await eventually('PodScheduled=False', () => podScheduledCondition(client, 'app'))
  t.equal(cond.reason, 'SchedulerError')
  t.equal(cond.message, ev.message)
  await eventually('a second attempt', async () => (seen.filter((s) => s !== undefined).length >= 2 ? true : undefined))
  t.equal(await nodeOf(client, 'app'), undefined)
})

t.test('scheduler: a pod deleted while its volumes are being bound stops waiting and releases its claim', async (t) => {
  const { client } = await setup(t)
  await client.resource(CLASSES).create(storageClass('local-path', 'WaitForFirstConsumer', 'raftplane.io/local-path'))
  await client.resource(PVCS, 'default').create(apiClaim('data', 'local-path'))
  await client.resource(PODS, 'default').create(apiPod('app', ['data']))
  await eventually('selected-node', async () => (await client.resource(PVCS, 'default').get('data')).metadata?.annotations?.[SELECTED_NODE])
  await client.resource(PODS, 'default').delete('app', { gracePeriodSeconds: 0 })
  // The default timeout is 10 minutes: only the deletion can end the wait this soon.
  await eventually('the claim released', async () => ((await client.resource(PVCS, 'default').get('data')).metadata?.annotations?.[SELECTED_NODE] === undefined ? true : undefined))
  const items = (await client.resource(EVENTS, 'default').list()).items as any[]
  t.notOk(
    items.some((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'app'),
    'a deleted pod is not reported',
  )
})
