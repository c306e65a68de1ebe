// Property tests on random clusters (seeded; SEED=n replays one, the seed is in every
// subtest name and failure): pods with random requests, selectors, node affinity,
// tolerations, host ports, topology spread constraints and pod (anti-)affinity are
// scheduled one at a time, each placed pod added to its node. An independent oracle,
// written here from the rules rather than from the plugins, decides for every pod and
// every node whether the node is feasible and, if not, which reasons upstream reports.
// Checked: a chosen node is feasible (every hard constraint holds at placement); an
// unschedulable pod really fits nowhere and its FitError message and failed plugins
// are exactly what the oracle predicts; at the end no node is over-committed, no two
// pods share a host port, and no required anti-affinity is violated in either direction.
// Some placed pods are deleted along the way, and the snapshot changes its NodeInfos the
// three ways a snapshot may (edited in place, replaced by a copy, a new node list), so
// what plugins keep from one cycle to the next is checked against a fresh computation.
import t from 'tap'
import { schedulePod } from '../../../src/scheduler/framework/algorithm.js'
import { ListSnapshot } from '../../../src/scheduler/framework/list-snapshot.js'
import { NodeInfo, PodInfo } from '../../../src/scheduler/framework/node-info.js'
import { buildProfile, defaultProfile } from '../../../src/scheduler/framework/profile.js'
import type { Profile, Snapshot } from '../../../src/scheduler/framework/types.js'
import type { KubeObject } from '../../../src/client/types.js'
import { seededRandom, testSeed } from './fixtures.js'

type Rng = () => number
type Labels = Record<string, string>
type Json = Record<string, unknown>

const MI = 1024 * 1024
const GI = 1024 * MI
const ZONES = ['z0', 'z1', 'z2', 'z3']
const APPS = ['web', 'db', 'cache', 'batch']
const NAMESPACES = ['default', 'team']

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]
const chance = (rng: Rng, p: number): boolean => rng() < p
const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1))

// ---- the model: what the oracle knows, in plain numbers

interface Taint {
  key: string
  value: string
  effect: string
}

interface NodeModel {
  name: string
  labels: Labels
  taints: Taint[]
  unschedulable: boolean
  cpu: number // milli
  memory: number
  pods: number
  eph: number
  gpu: number
  obj: KubeObject
}

interface Port {
  ip: string
  protocol: string
  port: number
}

interface PodModel {
  name: string
  ns: string
  labels: Labels
  cpu: number
  memory: number
  eph: number
  gpu: number
  ports: Port[]
  obj: KubeObject
}

function genNode(rng: Rng, i: number): NodeModel {
  const name = `node-${i}`
  const labels: Labels = { 'kubernetes.io/hostname': name }
  if (!chance(rng, 0.1)) labels.zone = pick(rng, ZONES)
  if (chance(rng, 0.7)) labels.disk = pick(rng, ['ssd', 'hdd'])
  labels.tier = String(int(rng, 1, 5))
  const taints: Taint[] = []
  if (chance(rng, 0.15)) taints.push({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' })
  if (chance(rng, 0.2)) taints.push({ key: 'soft', value: 'x', effect: 'PreferNoSchedule' })
  if (chance(rng, 0.08)) taints.push({ key: 'maint', value: '', effect: 'NoExecute' })
  const n: Omit<NodeModel, 'obj'> = {
    name,
    labels,
    taints,
    unschedulable: chance(rng, 0.05),
    cpu: pick(rng, [1000, 2000, 4000, 8000]),
    memory: pick(rng, [2, 4, 8]) * GI,
    pods: int(rng, 2, 12),
    eph: chance(rng, 0.5) ? pick(rng, [10, 20]) * GI : 0,
    gpu: chance(rng, 0.3) ? int(rng, 1, 2) : 0,
  }
  const allocatable: Record<string, string> = { cpu: `${n.cpu}m`, memory: String(n.memory), pods: String(n.pods) }
  if (n.eph > 0) allocatable['ephemeral-storage'] = String(n.eph)
  if (n.gpu > 0) allocatable['example.com/gpu'] = String(n.gpu)
  const obj: KubeObject = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels },
    spec: { ...(taints.length > 0 ? { taints } : {}), ...(n.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable },
  }
  return { ...n, obj }
}

function selectorFor(rng: Rng, ownApp: string): Json {
  const app = chance(rng, 0.6) ? ownApp : pick(rng, APPS)
  if (chance(rng, 0.2)) return { matchExpressions: [{ key: 'app', operator: 'In', values: [app, pick(rng, APPS)] }] }
  return { matchLabels: { app } }
}

function podTerm(rng: Rng, ownApp: string, keys: readonly string[]): Json {
  const term: Json = { labelSelector: selectorFor(rng, ownApp), topologyKey: pick(rng, keys) }
  const r = rng()
  if (r < 0.1) term.namespaces = [pick(rng, NAMESPACES)]
  else if (r < 0.15) term.namespaceSelector = {}
  else if (r < 0.2) term.namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': pick(rng, NAMESPACES) } }
  return term
}

function nodeTerm(rng: Rng, nodes: readonly NodeModel[]): Json {
  const r = rng()
  if (r < 0.1) return { matchFields: [{ key: 'metadata.name', operator: 'In', values: [chance(rng, 0.9) ? pick(rng, nodes).name : 'ghost'] }] }
  const exprs: Json[] = []
  for (let k = int(rng, 1, 2); k > 0; k--) {
    const s = rng()
    if (s < 0.25) exprs.push({ key: 'zone', operator: 'In', values: [pick(rng, ZONES), pick(rng, ZONES)] })
    else if (s < 0.4) exprs.push({ key: 'zone', operator: 'NotIn', values: [pick(rng, ZONES)] })
    else if (s < 0.5) exprs.push({ key: 'disk', operator: 'Exists' })
    else if (s < 0.6) exprs.push({ key: 'disk', operator: 'DoesNotExist' })
    else if (s < 0.8) exprs.push({ key: 'tier', operator: 'Gt', values: [String(int(rng, 0, 4))] })
    else exprs.push({ key: 'tier', operator: 'Lt', values: [String(int(rng, 2, 6))] })
  }
  return { matchExpressions: exprs }
}

function genPod(rng: Rng, i: number, nodes: readonly NodeModel[]): PodModel {
  const name = `pod-${i}`
  const ns = chance(rng, 0.8) ? 'default' : 'team'
  const app = pick(rng, APPS)
  const labels: Labels = { app }
  if (chance(rng, 0.5)) labels.rev = pick(rng, ['1', '2'])
  const m = {
    cpu: pick(rng, [0, 100, 250, 500, 1000, 2000, 3000]),
    memory: pick(rng, [0, 128, 512, 1024, 2048, 4096]) * MI,
    eph: chance(rng, 0.2) ? pick(rng, [1, 5, 15]) * GI : 0,
    gpu: chance(rng, 0.1) ? int(rng, 1, 2) : 0,
  }
  const requests: Record<string, string> = {}
  if (m.cpu > 0) requests.cpu = `${m.cpu}m`
  if (m.memory > 0) requests.memory = String(m.memory)
  if (m.eph > 0) requests['ephemeral-storage'] = String(m.eph)
  if (m.gpu > 0) requests['example.com/gpu'] = String(m.gpu)
  const ports: Port[] = []
  if (chance(rng, 0.15)) {
    for (let k = int(rng, 1, 2); k > 0; k--) ports.push({ ip: pick(rng, ['0.0.0.0', '0.0.0.0', '10.0.0.1', '10.0.0.2']), protocol: pick(rng, ['TCP', 'TCP', 'UDP']), port: pick(rng, [8080, 9090]) })
  }
  const container: Json = { name: 'c', image: 'x', resources: { requests } }
  if (ports.length > 0) container.ports = ports.map((p) => ({ containerPort: p.port, hostPort: p.port, protocol: p.protocol, ...(p.ip === '0.0.0.0' && chance(rng, 0.5) ? {} : { hostIP: p.ip }) }))
  const spec: Json = { containers: [container] }
  if (chance(rng, 0.12)) spec.nodeSelector = chance(rng, 0.5) ? { disk: 'ssd' } : { zone: pick(rng, ZONES) }
  const affinity: Json = {}
  if (chance(rng, 0.15)) {
    const terms = Array.from({ length: int(rng, 1, 2) }, () => nodeTerm(rng, nodes))
    affinity.nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } }
  }
  if (chance(rng, 0.1)) {
    const na = (affinity.nodeAffinity ?? {}) as Json
    na.preferredDuringSchedulingIgnoredDuringExecution = [{ weight: int(rng, 1, 100), preference: nodeTerm(rng, nodes) }]
    affinity.nodeAffinity = na
  }
  const pa: Json = {}
  const paa: Json = {}
  if (chance(rng, 0.08)) pa.requiredDuringSchedulingIgnoredDuringExecution = [podTerm(rng, app, ['zone'])]
  if (chance(rng, 0.15)) paa.requiredDuringSchedulingIgnoredDuringExecution = [podTerm(rng, app, ['kubernetes.io/hostname', 'kubernetes.io/hostname', 'zone'])]
  if (chance(rng, 0.1)) pa.preferredDuringSchedulingIgnoredDuringExecution = [{ weight: int(rng, 1, 100), podAffinityTerm: podTerm(rng, app, ['zone', 'kubernetes.io/hostname']) }]
  if (chance(rng, 0.1)) paa.preferredDuringSchedulingIgnoredDuringExecution = [{ weight: int(rng, 1, 100), podAffinityTerm: podTerm(rng, app, ['zone', 'kubernetes.io/hostname']) }]
  if (Object.keys(pa).length > 0) affinity.podAffinity = pa
  if (Object.keys(paa).length > 0) affinity.podAntiAffinity = paa
  if (Object.keys(affinity).length > 0) spec.affinity = affinity
  if (chance(rng, 0.3)) {
    const all = [
      { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
      { key: 'dedicated', operator: 'Exists' },
      { key: 'maint', operator: 'Exists', effect: 'NoExecute' },
      { key: 'soft', operator: 'Exists', effect: 'PreferNoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
      // Wrong effects: these tolerate nothing the nodes have.
      { key: 'dedicated', operator: 'Exists', effect: 'NoExecute' },
      { key: 'maint', operator: 'Exists', effect: 'NoSchedule' },
    ]
    spec.tolerations = Array.from({ length: int(rng, 1, 2) }, () => (chance(rng, 0.05) ? { operator: 'Exists' } : pick(rng, all)))
  }
  if (chance(rng, 0.25)) {
    spec.topologySpreadConstraints = Array.from({ length: int(rng, 1, 2) }, () => {
      const c: Json = {
        maxSkew: int(rng, 1, 2),
        topologyKey: pick(rng, ['zone', 'zone', 'kubernetes.io/hostname']),
        whenUnsatisfiable: chance(rng, 0.7) ? 'DoNotSchedule' : 'ScheduleAnyway',
        labelSelector: selectorFor(rng, app),
      }
      if (chance(rng, 0.2)) c.minDomains = int(rng, 2, 5)
      if (chance(rng, 0.3)) c.nodeAffinityPolicy = pick(rng, ['Honor', 'Ignore'])
      if (chance(rng, 0.3)) c.nodeTaintsPolicy = pick(rng, ['Honor', 'Ignore'])
      if (chance(rng, 0.2)) c.matchLabelKeys = ['rev']
      return c
    })
  }
  const obj: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, uid: `u-${i}`, labels }, spec }
  return { name, ns, labels, ...m, ports, obj }
}

// ---- the oracle

const rec = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : [])
const has = (labels: Labels, k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k)

function selectorMatches(sel: unknown, labels: Labels): boolean {
  if (sel === undefined || sel === null) return false
  const s = rec(sel)
  for (const [k, v] of Object.entries(rec(s.matchLabels))) if (labels[k] !== v) return false
  for (const e of list(s.matchExpressions)) {
    const k = String(e.key)
    const vals = (e.values ?? []) as string[]
    switch (e.operator) {
      case 'In':
        if (!has(labels, k) || !vals.includes(labels[k])) return false
        break
      case 'NotIn':
        if (has(labels, k) && vals.includes(labels[k])) return false
        break
      case 'Exists':
        if (!has(labels, k)) return false
        break
      case 'DoesNotExist':
        if (has(labels, k)) return false
        break
      default:
        return false
    }
  }
  return true
}

function selectorIsEmpty(sel: unknown): boolean {
  const s = rec(sel)
  return sel !== undefined && sel !== null && Object.keys(rec(s.matchLabels)).length === 0 && list(s.matchExpressions).length === 0
}

function nodeTermMatches(term: Json, node: NodeModel): boolean {
  const exprs = list(term.matchExpressions)
  const fields = list(term.matchFields)
  if (exprs.length === 0 && fields.length === 0) return false
  for (const e of exprs) {
    const k = String(e.key)
    const vals = (e.values ?? []) as string[]
    const has_ = has(node.labels, k)
    const v = node.labels[k]
    switch (e.operator) {
      case 'In':
        if (!has_ || !vals.includes(v)) return false
        break
      case 'NotIn':
        if (has_ && vals.includes(v)) return false
        break
      case 'Exists':
        if (!has_) return false
        break
      case 'DoesNotExist':
        if (has_) return false
        break
      case 'Gt':
      case 'Lt': {
        if (!has_ || !/^-?\d+$/.test(v)) return false
        const a = Number(v)
        const b = Number(vals[0])
        if (e.operator === 'Gt' ? !(a > b) : !(a < b)) return false
        break
      }
      default:
        return false
    }
  }
  for (const f of fields) {
    const v = f.key === 'metadata.name' ? node.name : ''
    const want = ((f.values ?? []) as string[])[0]
    if (f.operator === 'In' ? v !== want : v === want) return false
  }
  return true
}

function podSpec(p: PodModel): Json {
  return rec(p.obj.spec)
}

function requiredNodeAffinityMatches(p: PodModel, node: NodeModel): boolean {
  const spec = podSpec(p)
  for (const [k, v] of Object.entries(rec(spec.nodeSelector))) if (node.labels[k] !== v) return false
  const req = rec(rec(rec(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution)
  if (rec(rec(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution === undefined) return true
  return list(req.nodeSelectorTerms).some((t) => nodeTermMatches(t, node))
}

function tolerates(p: PodModel, taint: Taint): boolean {
  return list(podSpec(p).tolerations).some((tol) => {
    if (tol.effect !== undefined && tol.effect !== '' && tol.effect !== taint.effect) return false
    if (tol.key !== undefined && tol.key !== '' && tol.key !== taint.key) return false
    return tol.operator === 'Exists' || ((tol.operator ?? 'Equal') === 'Equal' && (tol.value ?? '') === taint.value)
  })
}

function firstUntoleratedHardTaint(p: PodModel, node: NodeModel): Taint | undefined {
  return node.taints.find((x) => (x.effect === 'NoSchedule' || x.effect === 'NoExecute') && !tolerates(p, x))
}

interface Placement {
  pod: PodModel
  node: NodeModel
}

function termNamespaceMatches(term: Json, owner: PodModel, ns: string): boolean {
  const names = (term.namespaces ?? []) as string[]
  const nsSel = term.namespaceSelector
  if (names.length === 0 && nsSel === undefined) return ns === owner.ns
  if (names.includes(ns)) return true
  if (nsSel === undefined) return false
  return selectorMatches(nsSel, { 'kubernetes.io/metadata.name': ns })
}

function termMatches(term: Json, owner: PodModel, target: PodModel): boolean {
  return termNamespaceMatches(term, owner, target.ns) && selectorMatches(term.labelSelector, target.labels)
}

function spreadSelector(c: Json, p: PodModel): unknown {
  if (c.labelSelector === undefined) return undefined
  const keys = (c.matchLabelKeys ?? []) as string[]
  const extra = keys.filter((k) => has(p.labels, k)).map((k) => ({ key: k, operator: 'In', values: [p.labels[k]] }))
  const sel = rec(c.labelSelector)
  return extra.length === 0 ? sel : { ...sel, matchExpressions: [...list(sel.matchExpressions), ...extra] }
}

const REASONS = {
  unschedulable: 'node(s) were unschedulable',
  affinity: "node(s) didn't match Pod's node affinity/selector",
  ports: "node(s) didn't have free ports for the requested pod ports",
  skew: "node(s) didn't match pod topology spread constraints",
  missing: "node(s) didn't match pod topology spread constraints (missing required label)",
  podAffinity: "node(s) didn't match pod affinity rules",
  podAnti: "node(s) didn't match pod anti-affinity rules",
  existingAnti: "node(s) didn't satisfy existing pods anti-affinity rules",
}

interface Verdict {
  plugin: string
  reasons: string[]
}

/** The first failing plugin on `node` and its reasons (undefined: feasible), in the default profile's filter order. */
function oracle(p: PodModel, node: NodeModel, nodes: readonly NodeModel[], placed: readonly Placement[]): Verdict | undefined {
  const onNode = placed.filter((x) => x.node === node).map((x) => x.pod)
  const spec = podSpec(p)
  if (node.unschedulable && !tolerates(p, { key: 'node.kubernetes.io/unschedulable', value: '', effect: 'NoSchedule' })) return { plugin: 'NodeUnschedulable', reasons: [REASONS.unschedulable] }
  const taint = firstUntoleratedHardTaint(p, node)
  if (taint !== undefined) return { plugin: 'TaintToleration', reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value}}`] }
  if (!requiredNodeAffinityMatches(p, node)) return { plugin: 'NodeAffinity', reasons: [REASONS.affinity] }
  for (const want of p.ports) {
    for (const q of onNode) {
      for (const have of q.ports) {
        if (have.port === want.port && have.protocol === want.protocol && (have.ip === want.ip || have.ip === '0.0.0.0' || want.ip === '0.0.0.0')) return { plugin: 'NodePorts', reasons: [REASONS.ports] }
      }
    }
  }
  const reasons: string[] = []
  if (onNode.length + 1 > node.pods) reasons.push('Too many pods')
  if (p.cpu > 0 || p.memory > 0 || p.eph > 0 || p.gpu > 0) {
    const sum = (f: (q: PodModel) => number) => onNode.reduce((a, q) => a + f(q), 0)
    if (p.cpu > 0 && p.cpu > node.cpu - sum((q) => q.cpu)) reasons.push('Insufficient cpu')
    if (p.memory > 0 && p.memory > node.memory - sum((q) => q.memory)) reasons.push('Insufficient memory')
    if (p.eph > 0 && p.eph > node.eph - sum((q) => q.eph)) reasons.push('Insufficient ephemeral-storage')
    if (p.gpu > 0 && p.gpu > node.gpu - sum((q) => q.gpu)) reasons.push('Insufficient example.com/gpu')
  }
  if (reasons.length > 0) return { plugin: 'NodeResourcesFit', reasons }

  const hard = list(spec.topologySpreadConstraints).filter((c) => c.whenUnsatisfiable === 'DoNotSchedule')
  if (hard.length > 0) {
    for (const c of hard) {
      const key = String(c.topologyKey)
      if (!has(node.labels, key)) return { plugin: 'PodTopologySpread', reasons: [REASONS.missing] }
      const sel = spreadSelector(c, p)
      const domains = new Map<string, number>()
      for (const n of nodes) {
        if (!hard.every((h) => has(n.labels, String(h.topologyKey)))) continue
        if (c.nodeAffinityPolicy !== 'Ignore' && !requiredNodeAffinityMatches(p, n)) continue
        if (c.nodeTaintsPolicy === 'Honor' && firstUntoleratedHardTaint(p, n) !== undefined) continue
        const count = selectorIsEmpty(sel) ? 0 : placed.filter((x) => x.node === n && x.pod.ns === p.ns && selectorMatches(sel, x.pod.labels)).length
        const v = n.labels[key]
        domains.set(v, (domains.get(v) ?? 0) + count)
      }
      let min = domains.size === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...domains.values())
      if (domains.size < Number(c.minDomains ?? 1)) min = 0
      const self = selectorMatches(sel, p.labels) ? 1 : 0
      if ((domains.get(node.labels[key]) ?? 0) + self - min > Number(c.maxSkew)) return { plugin: 'PodTopologySpread', reasons: [REASONS.skew] }
    }
  }

  const aff = rec(spec.affinity)
  const reqAff = list(rec(aff.podAffinity).requiredDuringSchedulingIgnoredDuringExecution)
  const reqAnti = list(rec(aff.podAntiAffinity).requiredDuringSchedulingIgnoredDuringExecution)
  if (reqAff.length > 0) {
    const matchingAll = placed.filter((x) => reqAff.every((term) => termMatches(term, p, x.pod)))
    let ok = true
    let podsExist = true
    for (const term of reqAff) {
      const key = String(term.topologyKey)
      if (!has(node.labels, key)) ok = false
      else if (!matchingAll.some((x) => has(x.node.labels, key) && x.node.labels[key] === node.labels[key])) podsExist = false
    }
    // Counted pairs exist only for matching pods on nodes with some term's key.
    const anyCounted = matchingAll.some((x) => reqAff.some((term) => has(x.node.labels, String(term.topologyKey))))
    if (ok && !podsExist) ok = !anyCounted && reqAff.every((term) => termMatches(term, p, p))
    if (!ok) return { plugin: 'InterPodAffinity', reasons: [REASONS.podAffinity] }
  }
  for (const term of reqAnti) {
    const key = String(term.topologyKey)
    if (!has(node.labels, key)) continue
    if (placed.some((x) => has(x.node.labels, key) && x.node.labels[key] === node.labels[key] && termMatches(term, p, x.pod))) return { plugin: 'InterPodAffinity', reasons: [REASONS.podAnti] }
  }
  for (const x of placed) {
    for (const term of list(rec(rec(podSpec(x.pod).affinity).podAntiAffinity).requiredDuringSchedulingIgnoredDuringExecution)) {
      const key = String(term.topologyKey)
      if (has(x.node.labels, key) && has(node.labels, key) && x.node.labels[key] === node.labels[key] && termMatches(term, x.pod, p)) {
        return { plugin: 'InterPodAffinity', reasons: [REASONS.existingAnti] }
      }
    }
  }
  return undefined
}

/** Nodes a required `metadata.name In` field in every term pins the pod to (undefined: all). */
function pinnedNodes(p: PodModel): Set<string> | undefined {
  const na = rec(rec(podSpec(p).affinity).nodeAffinity)
  if (na.requiredDuringSchedulingIgnoredDuringExecution === undefined) return undefined
  const terms = list(rec(na.requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms)
  if (terms.length === 0) return undefined
  const names = new Set<string>()
  for (const term of terms) {
    const f = list(term.matchFields).filter((x) => x.key === 'metadata.name' && x.operator === 'In')
    if (f.length === 0) return undefined
    for (const v of (f[0].values ?? []) as string[]) names.add(v)
  }
  return names
}

function expectedFailure(p: PodModel, nodes: readonly NodeModel[], placed: readonly Placement[]): { message: string; plugins: string[]; feasible: string[] } {
  const pinned = pinnedNodes(p)
  const counts = new Map<string, number>()
  const plugins = new Set<string>()
  const feasible: string[] = []
  for (const n of nodes) {
    if (pinned !== undefined && !pinned.has(n.name)) {
      const r = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
      counts.set(r, (counts.get(r) ?? 0) + 1)
      plugins.add('NodeAffinity')
      continue
    }
    const v = oracle(p, n, nodes, placed)
    if (v === undefined) {
      feasible.push(n.name)
      continue
    }
    plugins.add(v.plugin)
    for (const r of v.reasons) counts.set(r, (counts.get(r) ?? 0) + 1)
  }
  if (pinned !== undefined) plugins.add('NodeAffinity')
  const n = nodes.length
  const hist = [...counts].map(([r, c]) => `${c} ${r}`).sort()
  const message = `0/${n} nodes are available: ${hist.join(', ')}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`
  return { message, plugins: [...plugins].sort(), feasible }
}

// ---- end-of-run invariants, checked from the placements alone

function globalViolations(nodes: readonly NodeModel[], placed: readonly Placement[]): string[] {
  const out: string[] = []
  for (const n of nodes) {
    const pods = placed.filter((x) => x.node === n).map((x) => x.pod)
    const sum = (f: (q: PodModel) => number) => pods.reduce((a, q) => a + f(q), 0)
    if (pods.length > n.pods) out.push(`${n.name}: ${pods.length} pods > ${n.pods}`)
    if (sum((q) => q.cpu) > n.cpu) out.push(`${n.name}: cpu over-committed`)
    if (sum((q) => q.memory) > n.memory) out.push(`${n.name}: memory over-committed`)
    if (sum((q) => q.eph) > n.eph) out.push(`${n.name}: ephemeral-storage over-committed`)
    if (sum((q) => q.gpu) > n.gpu) out.push(`${n.name}: example.com/gpu over-committed`)
    const ports = pods.flatMap((q) => q.ports.map((pt) => ({ ...pt, pod: q.name })))
    for (let i = 0; i < ports.length; i++) {
      for (let j = i + 1; j < ports.length; j++) {
        const a = ports[i]
        const b = ports[j]
        if (a.pod !== b.pod && a.port === b.port && a.protocol === b.protocol && (a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0')) out.push(`${n.name}: ${a.pod} and ${b.pod} share ${a.protocol}/${a.port}`)
      }
    }
  }
  for (const x of placed) {
    for (const term of list(rec(rec(podSpec(x.pod).affinity).podAntiAffinity).requiredDuringSchedulingIgnoredDuringExecution)) {
      const key = String(term.topologyKey)
      if (!has(x.node.labels, key)) continue
      for (const y of placed) {
        if (y === x || !has(y.node.labels, key) || y.node.labels[key] !== x.node.labels[key]) continue
        if (termMatches(term, x.pod, y.pod)) out.push(`anti-affinity of ${x.pod.name} (${key}) violated by ${y.pod.name} on ${y.node.name}`)
      }
    }
  }
  return out
}

// ---- snapshots that change NodeInfos the way the scheduler cache's does

type SnapshotMode = 'in-place' | 'copy' | 'new-list'

interface MutableSnapshot extends Snapshot {
  addPod(nodeName: string, pod: PodInfo): void
  removePod(nodeName: string, pod: PodInfo): boolean
}

/** Replaces a changed NodeInfo by a changed copy, in the same list ('copy') or in a new list ('new-list'). */
class CopyingSnapshot implements MutableSnapshot {
  private list: NodeInfo[]
  private readonly index = new Map<string, number>()

  constructor(
    nodes: NodeInfo[],
    private readonly newList: boolean,
  ) {
    this.list = [...nodes]
    nodes.forEach((n, i) => this.index.set(n.name, i))
  }

  get nodes(): readonly NodeInfo[] {
    return this.list
  }

  get(name: string): NodeInfo | undefined {
    const i = this.index.get(name)
    return i === undefined ? undefined : this.list[i]
  }

  get havePodsWithAffinity(): readonly NodeInfo[] {
    return this.list.filter((n) => n.podsWithAffinity.size > 0)
  }

  get havePodsWithRequiredAntiAffinity(): readonly NodeInfo[] {
    return this.list.filter((n) => n.podsWithRequiredAntiAffinity.size > 0)
  }

  private change(name: string, edit: (n: NodeInfo) => boolean): boolean {
    const i = this.index.get(name)!
    const copy = this.list[i].clone()
    const changed = edit(copy)
    if (this.newList) this.list = [...this.list]
    this.list[i] = copy
    return changed
  }

  addPod(name: string, pod: PodInfo): void {
    this.change(name, (n) => (n.addPod(pod), true))
  }

  removePod(name: string, pod: PodInfo): boolean {
    return this.change(name, (n) => n.removePod(pod.key))
  }
}

function makeSnapshot(mode: SnapshotMode, infos: NodeInfo[]): MutableSnapshot {
  return mode === 'in-place' ? new ListSnapshot(infos) : new CopyingSnapshot(infos, mode === 'new-list')
}

// ---- the runs

function profiles(): Profile[] {
  return [
    defaultProfile(),
    buildProfile({ schedulerName: 'packing', pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }] }),
    buildProfile({ schedulerName: 'sample', percentageOfNodesToScore: 50 }),
  ]
}

function runCluster(seed: number, numNodes: number, numPods: number): { problems: string[]; scheduled: number; unschedulable: number } {
  const rng = seededRandom(seed)
  const nodes = Array.from({ length: numNodes }, (_, i) => genNode(rng, i))
  const infos = nodes.map((n) => new NodeInfo(n.obj))
  const byName = new Map(nodes.map((n) => [n.name, n]))
  const mode: SnapshotMode = (['in-place', 'copy', 'new-list'] as const)[Math.floor(seed / 3) % 3]
  const snapshot = makeSnapshot(mode, infos)
  const profile = profiles()[seed % 3]
  const infoOf = new Map<PodModel, PodInfo>()
  const placed: Placement[] = []
  const problems: string[] = []
  let scheduled = 0
  let unschedulable = 0
  for (let i = 0; i < numPods && problems.length < 5; i++) {
    if (placed.length > 0 && chance(rng, 0.1)) {
      const k = Math.floor(rng() * placed.length)
      const gone = placed[k]
      if (!snapshot.removePod(gone.node.name, infoOf.get(gone.pod)!)) problems.push(`${gone.pod.name} was not on ${gone.node.name}`)
      placed.splice(k, 1)
    }
    const pod = genPod(rng, i, nodes)
    const info = new PodInfo(pod.obj)
    const r = schedulePod(profile, snapshot, info, { rng })
    if (r.ok) {
      scheduled++
      const target = byName.get(r.nodeName)!
      const v = oracle(pod, target, nodes, placed)
      const pinned = pinnedNodes(pod)
      if (v !== undefined) problems.push(`${pod.name} placed on ${r.nodeName}, which the oracle rejects: ${v.plugin}: ${v.reasons.join(', ')}\n${JSON.stringify(pod.obj.spec)}`)
      if (pinned !== undefined && !pinned.has(r.nodeName)) problems.push(`${pod.name} placed on ${r.nodeName} outside its matchFields`)
      snapshot.addPod(r.nodeName, info)
      infoOf.set(pod, info)
      placed.push({ pod, node: target })
    } else {
      unschedulable++
      const want = expectedFailure(pod, nodes, placed)
      if (want.feasible.length > 0) problems.push(`${pod.name} unschedulable but the oracle finds ${want.feasible.join(', ')} feasible: ${r.message}\n${JSON.stringify(pod.obj.spec)}`)
      else if (r.message !== want.message) problems.push(`${pod.name}: message\n  got:  ${r.message}\n  want: ${want.message}\n${JSON.stringify(pod.obj.spec)}`)
      else if (r.failedPlugins.join() !== want.plugins.join()) problems.push(`${pod.name}: failed plugins ${r.failedPlugins.join()} != ${want.plugins.join()}`)
    }
  }
  problems.push(...globalViolations(nodes, placed).slice(0, 5))
  return { problems, scheduled, unschedulable }
}

const base = testSeed()
// SEED=n replays the round with that seed; ROUNDS=n runs n rounds from it (or from a fresh seed).
const ROUNDS = Number(process.env.ROUNDS ?? (process.env.SEED ? 1 : 24))

t.test('random clusters: placements respect every hard constraint, failures report the right reasons', async (t) => {
  let scheduled = 0
  let unschedulable = 0
  for (let round = 0; round < ROUNDS; round++) {
    const seed = base + round
    // Mostly small clusters (every node examined), some over 100 nodes (sampling and rotation).
    const numNodes = round % 6 === 5 ? 150 : 6 + (seed % 30)
    const res = runCluster(seed, numNodes, numNodes * 6)
    scheduled += res.scheduled
    unschedulable += res.unschedulable
    t.same(res.problems, [], `seed=${seed} nodes=${numNodes} snapshot=${['in-place', 'copy', 'new-list'][Math.floor(seed / 3) % 3]} (replay: SEED=${seed} npx tap ${'test/scheduler/framework/property.test.ts'})`)
  }
  t.comment(`base seed ${base}: ${scheduled} pods scheduled, ${unschedulable} unschedulable`)
  t.ok(scheduled > 0 && unschedulable > 0, 'both outcomes exercised')
})
