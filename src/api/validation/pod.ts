// Pods and pod templates (core/validation ValidatePodSpec, ValidatePodCreate,
// ValidatePodUpdate, ValidatePodTemplateSpec).
import { arr, isRecord, num, rec, recs, semanticEqual, str, type Json } from '../json.js'
import { tryParseQuantity } from '../quantity.js'
import { child, fieldErrors as fe, index, type FieldError } from './errors.js'
import { validateContainers, validateDNS1123Label, validateInitContainers } from './containers.js'
import { validateAnnotations, validateLabelName, validateLabels, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate, validateQualifiedName } from './meta.js'
import { inclusiveRangeError, isDNS1123Subdomain, isValidLabelValue, nameIsDNSLabel, nameIsDNSSubdomain, parseIP } from './names.js'
import { validateResourceRequirements } from './resources.js'
import { validateVolumes } from './volumes.js'

const MAX_INT32 = 2147483647

function validateIP(value: string, path: string): FieldError[] {
  return parseIP(value) === undefined ? [fe.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')] : []
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never']
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None']
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute']

export function validateTaintEffect(effect: string, allowEmpty: boolean, path: string): FieldError[] {
  if (!allowEmpty && effect === '') return [fe.required(path, '')]
  return TAINT_EFFECTS.includes(effect) ? [] : [fe.notSupported(path, effect, TAINT_EFFECTS)]
}

export function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  recs(tolerations).forEach((t, i) => {
    const p = index(path, i)
    const k = str(t.key)
    const op = str(t.operator)
    if (k !== '') errs.push(...validateLabelName(k, child(p, 'key')))
    if (k === '' && op !== 'Exists') {
      errs.push(fe.invalid(child(p, 'operator'), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'))
    }
    if (t.tolerationSeconds != null && str(t.effect) !== 'NoExecute') {
      errs.push(fe.invalid(child(p, 'effect'), str(t.effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    }
    switch (op) {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(str(t.value))
        if (msgs.length > 0) errs.push(fe.invalid(child(p, 'operator'), str(t.value), msgs.join(';')))
        break
      }
      case 'Exists':
        if (str(t.value) !== '') errs.push(fe.invalid(child(p, 'operator'), JSON.stringify(t), "value must be empty when `operator` is 'Exists'"))
        break
      default:
        errs.push(fe.notSupported(child(p, 'operator'), op, ['Equal', 'Exists']))
    }
    if (str(t.effect) !== '') errs.push(...validateTaintEffect(str(t.effect), true, child(p, 'effect')))
  })
  return errs
}

// ---- affinity

function validateNodeSelectorTerm(term: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  recs(term.matchExpressions).forEach((rq, j) => {
    const p = index(child(path, 'matchExpressions'), j)
    const values = arr(rq.values)
    switch (str(rq.operator)) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fe.required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"))
        break
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fe.forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        break
      case 'Gt':
      case 'Lt':
        if (values.length !== 1) errs.push(fe.required(child(p, 'values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
        break
      default:
        errs.push(fe.invalid(child(p, 'operator'), str(rq.operator), 'not a valid selector operator'))
    }
    errs.push(...validateLabelName(str(rq.key), child(p, 'key')))
  })
  recs(term.matchFields).forEach((rq, j) => {
    const p = index(child(path, 'matchFields'), j)
    const op = str(rq.operator)
    if (op === 'In' || op === 'NotIn') {
      if (arr(rq.values).length !== 1) errs.push(fe.required(child(p, 'values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
    } else {
      errs.push(fe.invalid(child(p, 'operator'), op, 'not a valid selector operator'))
    }
    if (str(rq.key) !== 'metadata.name') errs.push(fe.invalid(child(p, 'key'), str(rq.key), 'not a valid field selector key'))
    else arr(rq.values).forEach((v, vi) => nameIsDNSSubdomain(str(v), false).forEach((m) => errs.push(fe.invalid(index(child(p, 'values'), vi), str(v), m))))
  })
  return errs
}

function validatePodAffinityTerm(term: Json, path: string): FieldError[] {
  const errs = validateLabelSelector(term.labelSelector, child(path, 'labelSelector'))
  errs.push(...validateLabelSelector(term.namespaceSelector, child(path, 'namespaceSelector')))
  for (const ns of arr(term.namespaces)) for (const m of nameIsDNSLabel(str(ns), false)) errs.push(fe.invalid(child(path, 'namespace'), str(ns), m))
  if (str(term.topologyKey) === '') errs.push(fe.required(child(path, 'topologyKey'), 'can not be empty'))
  errs.push(...validateLabelName(str(term.topologyKey), child(path, 'topologyKey')))
  return errs
}

function validateWeight(weight: unknown, path: string): FieldError[] {
  const w = num(weight) ?? 0
  return w <= 0 || w > 100 ? [fe.invalid(path, w, 'must be in the range 1-100')] : []
}

function validateAffinity(affinity: unknown, path: string): FieldError[] {
  if (!isRecord(affinity)) return []
  const errs: FieldError[] = []
  const na = affinity.nodeAffinity
  if (isRecord(na)) {
    const np = child(path, 'nodeAffinity')
    const required = na.requiredDuringSchedulingIgnoredDuringExecution
    if (isRecord(required)) {
      const tp = child(np, 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms')
      const terms = recs(required.nodeSelectorTerms)
      if (terms.length === 0) errs.push(fe.required(tp, 'must have at least one node selector term'))
      terms.forEach((t, i) => errs.push(...validateNodeSelectorTerm(t, index(tp, i))))
    }
    recs(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const p = index(child(np, 'preferredDuringSchedulingIgnoredDuringExecution'), i)
      errs.push(...validateWeight(t.weight, child(p, 'weight')), ...validateNodeSelectorTerm(rec(t.preference), child(p, 'preference')))
    })
  }
  for (const k of ['podAffinity', 'podAntiAffinity']) {
    const pa = affinity[k]
    if (!isRecord(pa)) continue
    const pp = child(path, k)
    recs(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => errs.push(...validatePodAffinityTerm(t, index(child(pp, 'requiredDuringSchedulingIgnoredDuringExecution'), i))))
    recs(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const p = index(child(pp, 'preferredDuringSchedulingIgnoredDuringExecution'), i)
      errs.push(...validateWeight(t.weight, child(p, 'weight')), ...validatePodAffinityTerm(rec(t.podAffinityTerm), child(p, 'podAffinityTerm')))
    })
  }
  return errs
}

function validateTopologySpreadConstraints(constraints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = []
  const list = recs(constraints)
  list.forEach((c, i) => {
    const p = index(path, i)
    const maxSkew = num(c.maxSkew) ?? 0
    if (maxSkew <= 0) errs.push(fe.invalid(child(p, 'maxSkew'), maxSkew, 'must be greater than zero'))
    if (str(c.topologyKey) === '') errs.push(fe.required(child(p, 'topologyKey'), 'can not be empty'))
    const action = str(c.whenUnsatisfiable)
    if (action !== 'DoNotSchedule' && action !== 'ScheduleAnyway') errs.push(fe.notSupported(child(p, 'whenUnsatisfiable'), action, ['DoNotSchedule', 'ScheduleAnyway']))
    const repeat = list.slice(i + 1).some((o) => str(o.topologyKey) === str(c.topologyKey) && str(o.whenUnsatisfiable) === action)
    if (repeat) errs.push(fe.duplicate(child(p, '{topologyKey, whenUnsatisfiable}'), `{${str(c.topologyKey)}, ${action}}`))
    if (c.minDomains != null) {
      const md = num(c.minDomains) ?? 0
      if (md <= 0) errs.push(fe.invalid(child(p, 'minDomains'), md, 'must be greater than zero'))
      if (action !== 'DoNotSchedule') errs.push(fe.invalid(child(p, 'minDomains'), md, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${action}`))
    }
    for (const k of ['nodeAffinityPolicy', 'nodeTaintsPolicy']) {
      if (c[k] != null && c[k] !== 'Honor' && c[k] !== 'Ignore') errs.push(fe.notSupported(child(p, k), str(c[k]), ['Honor', 'Ignore']))
    }
    errs.push(...validateLabelSelector(c.labelSelector, child(p, 'labelSelector')))
  })
  return errs
}

function validateDNSConfig(dnsConfig: unknown, dnsPolicy: string, path: string): FieldError[] {
  if (dnsPolicy === 'None') {
    if (!isRecord(dnsConfig)) return [fe.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')]
    if (arr(dnsConfig.nameservers).length === 0) return [fe.required(child(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')]
  }
  if (!isRecord(dnsConfig)) return []
  const errs: FieldError[] = []
  const nameservers = arr(dnsConfig.nameservers).map(str)
  const searches = arr(dnsConfig.searches).map(str)
  if (nameservers.length > 3) errs.push(fe.invalid(child(path, 'nameservers'), nameservers, 'must not have more than 3 nameservers'))
  nameservers.forEach((ns, i) => errs.push(...validateIP(ns, index(child(path, 'nameservers'), i))))
  if (searches.length > 32) errs.push(fe.invalid(child(path, 'searches'), searches, 'must not have more than 32 search paths'))
  if (searches.join(' ').length > 2048) errs.push(fe.invalid(child(path, 'searches'), searches, 'must not have more than 2048 characters (including spaces) in the search list'))
  searches.forEach((s, i) => {
    const trimmed = s.endsWith('.') ? s.slice(0, -1) : s
    for (const m of isDNS1123Subdomain(trimmed)) errs.push(fe.invalid(index(child(path, 'searches'), i), trimmed, m))
  })
  recs(dnsConfig.options).forEach((o, i) => {
    if (str(o.name) === '') errs.push(fe.required(index(child(path, 'options'), i), 'must not be empty'))
  })
  return errs
}

function validatePodSecurityContext(sc: unknown, path: string): FieldError[] {
  if (!isRecord(sc)) return []
  const errs: FieldError[] = []
  for (const k of ['runAsUser', 'runAsGroup', 'fsGroup']) {
    const v = num(sc[k])
    if (v !== undefined && (v < 0 || v > MAX_INT32)) errs.push(fe.invalid(child(path, k), v, inclusiveRangeError(0, MAX_INT32)))
  }
  arr(sc.supplementalGroups).forEach((g, i) => {
    const v = num(g) ?? 0
    if (v < 0 || v > MAX_INT32) errs.push(fe.invalid(index(child(path, 'supplementalGroups'), i), v, inclusiveRangeError(0, MAX_INT32)))
  })
  const policy = sc.fsGroupChangePolicy
  if (policy != null && policy !== 'OnRootMismatch' && policy !== 'Always') errs.push(fe.notSupported(child(path, 'fsGroupChangePolicy'), str(policy), ['Always', 'OnRootMismatch']))
  return errs
}

export interface PodSpecContext {
  /** The pod's name (empty for templates): ephemeral volume claims are named after it. */
  podName: string
  /** Pods (not templates) must match hostPort to containerPort under hostNetwork. */
  isPod: boolean
}

/** ValidatePodSpec. */
export function validatePodSpec(specValue: unknown, path: string, ctx: PodSpecContext): FieldError[] {
  const spec = rec(specValue)
  const errs: FieldError[] = []
  const grace = num(spec.terminationGracePeriodSeconds)
  if (spec.terminationGracePeriodSeconds == null) errs.push(fe.required(child(path, 'terminationGracePeriodSeconds'), ''))
  const volumes = validateVolumes(spec.volumes, ctx.podName, child(path, 'volumes'), errs)
  errs.push(...validateContainers(spec.containers, volumes, grace, child(path, 'containers')))
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, volumes, grace, child(path, 'initContainers')))
  if (spec.hostNetwork === true) {
    recs(spec.containers).forEach((c, i) => {
      recs(c.ports).forEach((port, pi) => {
        const hp = num(port.hostPort) ?? 0
        const cp = num(port.containerPort) ?? 0
        if ((ctx.isPod || hp !== 0) && hp !== cp) {
          errs.push(fe.invalid(child(index(child(index(child(path, 'containers'), i), 'ports'), pi), 'hostPort'), hp, 'must match `containerPort` when `hostNetwork` is true'))
        }
      })
    })
  }
  const restartPolicy = str(spec.restartPolicy)
  if (restartPolicy === '') errs.push(fe.required(child(path, 'restartPolicy'), ''))
  else if (!RESTART_POLICIES.includes(restartPolicy)) errs.push(fe.notSupported(child(path, 'restartPolicy'), restartPolicy, RESTART_POLICIES))
  const dnsPolicy = str(spec.dnsPolicy)
  if (dnsPolicy === '') errs.push(fe.required(child(path, 'dnsPolicy'), ''))
  else if (!DNS_POLICIES.includes(dnsPolicy)) errs.push(fe.notSupported(child(path, 'dnsPolicy'), dnsPolicy, DNS_POLICIES))
  errs.push(...validateLabels(spec.nodeSelector, child(path, 'nodeSelector')))
  errs.push(...validatePodSecurityContext(spec.securityContext, child(path, 'securityContext')))
  recs(spec.imagePullSecrets).forEach((s, i) => {
    if (Object.keys(s).some((k) => k !== 'name')) errs.push(fe.invalid(index(child(path, 'imagePullSecrets'), i), JSON.stringify(s), 'only name may be set'))
  })
  errs.push(...validateAffinity(spec.affinity, child(path, 'affinity')))
  errs.push(...validateDNSConfig(spec.dnsConfig, dnsPolicy, child(path, 'dnsConfig')))
  recs(spec.readinessGates).forEach((g, i) => errs.push(...validateQualifiedName(str(g.conditionType), child(index(child(path, 'readinessGates'), i), 'conditionType'))))
  const gates = new Set<string>()
  recs(spec.schedulingGates).forEach((g, i) => {
    const p = index(child(path, 'schedulingGates'), i)
    errs.push(...validateQualifiedName(str(g.name), p))
    if (gates.has(str(g.name))) errs.push(fe.duplicate(p, str(g.name)))
    gates.add(str(g.name))
  })
  errs.push(...validateTopologySpreadConstraints(spec.topologySpreadConstraints, child(path, 'topologySpreadConstraints')))
  const sa = str(spec.serviceAccountName)
  if (sa !== '') for (const m of nameIsDNSSubdomain(sa, false)) errs.push(fe.invalid(child(path, 'serviceAccountName'), sa, m))
  const nodeName = str(spec.nodeName)
  if (nodeName !== '') for (const m of nameIsDNSSubdomain(nodeName, false)) errs.push(fe.invalid(child(path, 'nodeName'), nodeName, m))
  if (spec.activeDeadlineSeconds != null) {
    const v = num(spec.activeDeadlineSeconds) ?? 0
    if (v < 1 || v > MAX_INT32) errs.push(fe.invalid(child(path, 'activeDeadlineSeconds'), v, inclusiveRangeError(1, MAX_INT32)))
  }
  if (str(spec.hostname) !== '') errs.push(...validateDNS1123Label(str(spec.hostname), child(path, 'hostname')))
  if (str(spec.subdomain) !== '') errs.push(...validateDNS1123Label(str(spec.subdomain), child(path, 'subdomain')))
  if (arr(spec.tolerations).length > 0) errs.push(...validateTolerations(spec.tolerations, child(path, 'tolerations')))
  recs(spec.hostAliases).forEach((ha, i) => {
    const p = index(child(path, 'hostAliases'), i)
    errs.push(...validateIP(str(ha.ip), child(p, 'ip')))
    arr(ha.hostnames).forEach((h, j) => isDNS1123Subdomain(str(h)).forEach((m) => errs.push(fe.invalid(index(child(p, 'hostnames'), j), str(h), m))))
  })
  const pc = str(spec.priorityClassName)
  if (pc !== '') for (const m of nameIsDNSSubdomain(pc, false)) errs.push(fe.invalid(child(path, 'priorityClassName'), pc, m))
  if (spec.runtimeClassName != null) for (const m of nameIsDNSSubdomain(str(spec.runtimeClassName), false)) errs.push(fe.invalid(child(path, 'runtimeClassName'), str(spec.runtimeClassName), m))
  if (spec.preemptionPolicy != null) {
    const pp = str(spec.preemptionPolicy)
    if (pp === '') errs.push(fe.required(child(path, 'preemptionPolicy'), ''))
    else if (pp !== 'PreemptLowerPriority' && pp !== 'Never') errs.push(fe.notSupported(child(path, 'preemptionPolicy'), pp, ['PreemptLowerPriority', 'Never']))
  }
  if (spec.overhead != null) errs.push(...validateResourceRequirements({ limits: spec.overhead }, child(path, 'overhead')))
  if (isRecord(spec.os)) {
    const os = str(spec.os.name)
    if (os === '') errs.push(fe.required(child(path, 'os', 'name'), ''))
    else if (os !== 'linux' && os !== 'windows') errs.push(fe.notSupported(child(path, 'os', 'name'), os, ['linux', 'windows']))
  }
  return errs
}

/** ValidatePodTemplateSpec: a workload's pod template (labels, annotations, spec). */
export function validatePodTemplateSpec(template: unknown, path: string): FieldError[] {
  const t = rec(template)
  const meta = rec(t.metadata)
  const errs = validateLabels(meta.labels, child(path, 'labels'))
  errs.push(...validateAnnotations(meta.annotations, child(path, 'annotations')))
  errs.push(...validatePodSpec(t.spec, child(path, 'spec'), { podName: '', isPod: false }))
  if (arr(rec(t.spec).ephemeralContainers).length > 0) errs.push(fe.forbidden(child(path, 'spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'))
  return errs
}

function validatePodMetadataAndSpec(pod: Json): FieldError[] {
  const meta = rec(pod.metadata)
  const errs = validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain)
  errs.push(...validatePodSpec(pod.spec, 'spec', { podName: str(meta.name), isPod: true }))
  const spec = rec(pod.spec)
  if (str(spec.serviceAccountName) === '') {
    recs(spec.volumes).forEach((v, vi) => {
      recs(rec(v.projected).sources).forEach((s, si) => {
        if (isRecord(s.serviceAccountToken)) {
          errs.push(fe.forbidden(child(index(child(index(child('spec', 'volumes'), vi), 'projected', 'sources'), si), 'serviceAccountToken'), 'must not be specified when serviceAccountName is not set'))
        }
      })
    })
  }
  return errs
}

export function validatePodCreate(pod: Json): FieldError[] {
  const errs = validatePodMetadataAndSpec(pod)
  const spec = rec(pod.spec)
  if (arr(spec.ephemeralContainers).length > 0) errs.push(fe.forbidden(child('spec', 'ephemeralContainers'), 'cannot be set on create'))
  if (str(spec.nodeName) !== '' && arr(spec.schedulingGates).length > 0) errs.push(fe.forbidden(child('spec', 'nodeName'), 'cannot be set until all schedulingGates have been cleared'))
  return errs
}

// ---- QoS (the class a pod's resources put it in, as kubelet's qos.ComputePodQOS)

export function computePodQOS(pod: Json): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const spec = rec(pod.spec)
  const requests = new Map<string, bigint>()
  const limits = new Map<string, bigint>()
  let guaranteed = true
  for (const c of [...recs(spec.containers), ...recs(spec.initContainers)]) {
    const res = rec(c.resources)
    for (const [name, v] of Object.entries(rec(res.requests))) {
      const q = tryParseQuantity(v)
      if ((name === 'cpu' || name === 'memory') && q !== undefined && q.sign() > 0) requests.set(name, (requests.get(name) ?? 0n) + q.nanos)
    }
    const found = new Set<string>()
    for (const [name, v] of Object.entries(rec(res.limits))) {
      const q = tryParseQuantity(v)
      if ((name === 'cpu' || name === 'memory') && q !== undefined && q.sign() > 0) {
        found.add(name)
        limits.set(name, (limits.get(name) ?? 0n) + q.nanos)
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort'
  if (guaranteed) for (const [name, r] of requests) if (limits.get(name) !== r) guaranteed = false
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable'
}

// ---- updates

const UPDATABLE_POD_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
]

function validateContainerUpdates(newList: unknown, oldList: unknown, path: string): { errs: FieldError[]; stop: boolean } {
  const n = recs(newList)
  if (n.length !== recs(oldList).length) return { errs: [fe.forbidden(path, 'pod updates may not add or remove containers')], stop: true }
  const errs: FieldError[] = []
  n.forEach((c, i) => {
    const image = str(c.image)
    if (image === '') errs.push(fe.required(child(index(path, i), 'image'), ''))
    if (image.trim().length !== image.length) errs.push(fe.invalid(child(index(path, i), 'image'), image, 'must not have leading or trailing whitespace'))
  })
  return { errs, stop: false }
}

function validateOnlyAddedTolerations(newTols: unknown, oldTols: unknown, path: string): FieldError[] {
  const news = recs(newTols)
  for (const old of recs(oldTols)) {
    const found = news.some((n) => semanticEqual({ ...old, tolerationSeconds: n.tolerationSeconds }, n))
    if (!found) return [fe.forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')]
  }
  return validateTolerations(newTols, path)
}

// A readable stand-in for the cmp.Diff text upstream appends: the top-level spec
// fields that differ, old and new.
function specDiff(oldSpec: Json, newSpec: Json): string {
  const lines = ['  core.PodSpec{']
  for (const k of [...new Set([...Object.keys(oldSpec), ...Object.keys(newSpec)])]) {
    if (semanticEqual(oldSpec[k], newSpec[k])) continue
    lines.push(`- \t${k}: ${JSON.stringify(oldSpec[k] ?? null)},`, `+ \t${k}: ${JSON.stringify(newSpec[k] ?? null)},`)
  }
  lines.push('  }')
  return lines.join('\n') + '\n'
}

export function validatePodUpdate(newPod: Json, oldPod: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(newPod.metadata, oldPod.metadata)
  errs.push(...validatePodMetadataAndSpec(newPod))
  const newSpec = rec(newPod.spec)
  const oldSpec = rec(oldPod.spec)
  for (const k of ['containers', 'initContainers']) {
    const r = validateContainerUpdates(newSpec[k], oldSpec[k], child('spec', k))
    errs.push(...r.errs)
    if (r.stop) return errs
  }
  const specPath = 'spec'
  if (newSpec.activeDeadlineSeconds != null) {
    const v = num(newSpec.activeDeadlineSeconds) ?? 0
    if (v < 0 || v > MAX_INT32) return [...errs, fe.invalid(child(specPath, 'activeDeadlineSeconds'), v, inclusiveRangeError(0, MAX_INT32))]
    const old = num(oldSpec.activeDeadlineSeconds)
    if (old !== undefined && old < v) return [...errs, fe.invalid(child(specPath, 'activeDeadlineSeconds'), v, 'must be less than or equal to previous value')]
  } else if (oldSpec.activeDeadlineSeconds != null) {
    errs.push(fe.invalid(child(specPath, 'activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'))
  }
  errs.push(...validateOnlyAddedTolerations(newSpec.tolerations, oldSpec.tolerations, child(specPath, 'tolerations')))
  if (arr(newSpec.schedulingGates).length > 0) {
    const oldGates = new Set(recs(oldSpec.schedulingGates).map((g) => str(g.name)))
    recs(newSpec.schedulingGates).forEach((g, i) => {
      if (!oldGates.has(str(g.name))) errs.push(fe.forbidden(child(index(child(specPath, 'schedulingGates'), i), 'name'), `only deletion is allowed, but found new scheduling gate '${str(g.name)}'`))
    })
  }
  if (semanticEqual(newSpec, oldSpec)) return errs
  const oldQOS = str(rec(oldPod.status).qosClass) || computePodQOS(oldPod)
  if (oldQOS !== computePodQOS(newPod)) errs.push(fe.invalid('metadata', str(rec(newPod.status).qosClass), 'Pod QoS is immutable'))
  // Everything but the updatable fields must be unchanged.
  const munged: Json = structuredClone(newSpec)
  const oldContainers = recs(oldSpec.containers)
  munged.containers = recs(munged.containers).map((c, i) => ({ ...c, image: oldContainers[i]?.image }))
  const oldInit = recs(oldSpec.initContainers)
  if (Array.isArray(munged.initContainers)) munged.initContainers = recs(munged.initContainers).map((c, i) => ({ ...c, image: oldInit[i]?.image }))
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds
  munged.schedulingGates = oldSpec.schedulingGates
  munged.tolerations = oldSpec.tolerations
  const oldGrace = num(oldSpec.terminationGracePeriodSeconds)
  if (oldGrace !== undefined && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds
  if (!semanticEqual(munged, oldSpec)) {
    errs.push(fe.forbidden(specPath, `pod updates may not change fields other than ${UPDATABLE_POD_FIELDS.join(',')}\n${specDiff(oldSpec, munged)}`))
  }
  return errs
}

/** Pod status updates: metadata rules and the new status' node/IP fields. */
export function validatePodStatusUpdate(newPod: Json, oldPod: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(newPod.metadata, oldPod.metadata)
  const status = rec(newPod.status)
  const nominated = str(status.nominatedNodeName)
  if (nominated !== '') for (const m of nameIsDNSSubdomain(nominated, false)) errs.push(fe.invalid(child('status', 'nominatedNodeName'), nominated, m))
  recs(status.podIPs).forEach((ip, i) => errs.push(...validateIP(str(ip.ip), child(index(child('status', 'podIPs'), i), 'ip'))))
  return errs
}

