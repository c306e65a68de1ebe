// Workloads that manage pods by label selector: apps/v1 Deployment, ReplicaSet,
// DaemonSet, StatefulSet, ControllerRevision and core/v1 ReplicationController
// (apps/validation and core/validation), with the registries' update rules (an apps/v1
// selector is immutable).
import { LabelSelectorError, selectorFromLabelSelector, selectorFromSet, type Selector } from '../labels.js'
import { isRecord, num, rec, semanticEqual, str, type Json } from '../json.js'
import { child, fieldErrors as fe, type FieldError } from './errors.js'
import { goIntOrString, goLabelSelector, goQuote, goStringMap, GoText } from './go-format.js'
import { FIELD_IMMUTABLE, validateAnnotations, validateLabels, validateLabelSelector, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './meta.js'
import { isValidPercent, nameIsDNSLabel, nameIsDNSSubdomain } from './names.js'
import { validatePodTemplateSpec } from './pod.js'

const SELECTOR_MISMATCH = '`selector` does not match template `labels`'

function templateLabels(template: unknown): Record<string, string> | undefined {
  const labels = rec(rec(template).metadata).labels
  return isRecord(labels) ? (labels as Record<string, string>) : undefined
}

function selectorOrError(selector: unknown): Selector | undefined {
  try {
    return selectorFromLabelSelector(selector)
  } catch (e) {
    if (e instanceof LabelSelectorError) return undefined
    throw e
  }
}

// ---- int-or-percent fields (maxSurge, maxUnavailable)

function validatePositiveIntOrPercent(v: unknown, path: string): FieldError[] {
  if (typeof v === 'string') return isValidPercent(v).map((m) => fe.invalid(path, goIntOrString(v), m))
  if (typeof v === 'number') return validateNonnegative(v, path)
  return [fe.invalid(path, goIntOrString(v), "must be an integer or percentage (e.g '5%%')")]
}

function percentValue(v: unknown): number | undefined {
  if (typeof v !== 'string' || isValidPercent(v).length > 0) return undefined
  return Number(v.slice(0, -1))
}

function intOrPercentValue(v: unknown): number {
  return percentValue(v) ?? (typeof v === 'number' ? v : 0)
}

function isNotMoreThan100Percent(v: unknown, path: string): FieldError[] {
  const p = percentValue(v)
  return p !== undefined && p > 100 ? [fe.invalid(path, goIntOrString(v), 'must not be greater than 100%')] : []
}

// ---- selectors and templates

/** The strict selector checks Deployments, ReplicaSets and StatefulSets share. */
function validateRequiredSelector(spec: Json, path: string, kindWord: string): FieldError[] {
  if (spec.selector === undefined || spec.selector === null) return [fe.required(child(path, 'selector'), '')]
  const errs = validateLabelSelector(spec.selector, child(path, 'selector'))
  const s = rec(spec.selector)
  if (Object.keys(rec(s.matchLabels)).length + (Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0) === 0) {
    errs.push(fe.invalid(child(path, 'selector'), goLabelSelector(spec.selector), `empty selector is invalid for ${kindWord}`))
  }
  return errs
}

function validateTemplateForReplicaSet(template: unknown, selector: Selector, path: string, kind: string): FieldError[] {
  if (!isRecord(template)) return [fe.required(path, '')]
  const errs: FieldError[] = []
  const labels = templateLabels(template)
  if (!selector.empty() && !selector.matches(labels)) errs.push(fe.invalid(child(path, 'metadata', 'labels'), goStringMap(labels), SELECTOR_MISMATCH))
  errs.push(...validatePodTemplateSpec(template, path))
  const spec = rec(template.spec)
  if (str(spec.restartPolicy) !== 'Always') errs.push(fe.notSupported(child(path, 'spec', 'restartPolicy'), str(spec.restartPolicy), ['Always']))
  if (spec.activeDeadlineSeconds != null) errs.push(fe.forbidden(child(path, 'spec', 'activeDeadlineSeconds'), `activeDeadlineSeconds in ${kind} is not Supported`))
  return errs
}

function validateReplicaSetSpec(spec: Json, path: string): FieldError[] {
  const errs = [...validateNonnegative(num(spec.replicas) ?? 0, child(path, 'replicas')), ...validateNonnegative(num(spec.minReadySeconds) ?? 0, child(path, 'minReadySeconds'))]
  // Upstream words the empty-selector error as for Deployments.
  errs.push(...validateRequiredSelector(spec, path, 'deployment'))
  const selector = selectorOrError(spec.selector)
  if (selector === undefined) errs.push(fe.invalid(child(path, 'selector'), goLabelSelector(spec.selector), 'invalid label selector'))
  else errs.push(...validateTemplateForReplicaSet(spec.template, selector, child(path, 'template'), 'ReplicaSet'))
  return errs
}

function validateDeploymentStrategy(strategy: Json, path: string): FieldError[] {
  const type = str(strategy.type)
  if (type === 'Recreate') {
    return strategy.rollingUpdate != null ? [fe.forbidden(child(path, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")] : []
  }
  if (type === 'RollingUpdate') {
    if (!isRecord(strategy.rollingUpdate)) return [fe.required(child(path, 'rollingUpdate'), 'this should be defaulted and never be nil')]
    const ru = strategy.rollingUpdate
    const p = child(path, 'rollingUpdate')
    const errs = [...validatePositiveIntOrPercent(ru.maxUnavailable, child(p, 'maxUnavailable')), ...validatePositiveIntOrPercent(ru.maxSurge, child(p, 'maxSurge'))]
    if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
      errs.push(fe.invalid(child(p, 'maxUnavailable'), goIntOrString(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'))
    }
    errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(p, 'maxUnavailable')))
    return errs
  }
  return [fe.notSupported(path, strategyText('DeploymentStrategy', 'RollingUpdateDeployment', strategy), ['Recreate', 'RollingUpdate'])]
}

// %#v of a strategy struct; a set rollingUpdate pointer prints as an address upstream.
function strategyText(type: string, rollingType: string, strategy: Json): GoText {
  const ru = isRecord(strategy.rollingUpdate) ? `(*apps.${rollingType})(0xc000000000)` : `(*apps.${rollingType})(nil)`
  return new GoText(`apps.${type}{Type:${goQuote(str(strategy.type))}, RollingUpdate:${ru}}`)
}

function validateDeploymentSpec(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  errs.push(...validateNonnegative(num(spec.replicas) ?? 0, child(path, 'replicas')))
  errs.push(...validateRequiredSelector(spec, path, 'deployment'))
  const selector = selectorOrError(spec.selector)
  if (selector === undefined) errs.push(fe.invalid(child(path, 'selector'), goLabelSelector(spec.selector), 'invalid label selector'))
  else errs.push(...validateTemplateForReplicaSet(spec.template, selector, child(path, 'template'), 'ReplicaSet'))
  errs.push(...validateDeploymentStrategy(rec(spec.strategy), child(path, 'strategy')))
  const minReady = num(spec.minReadySeconds) ?? 0
  errs.push(...validateNonnegative(minReady, child(path, 'minReadySeconds')))
  if (spec.revisionHistoryLimit != null) errs.push(...validateNonnegative(num(spec.revisionHistoryLimit), child(path, 'revisionHistoryLimit')))
  if (spec.progressDeadlineSeconds != null) {
    const pds = num(spec.progressDeadlineSeconds) ?? 0
    errs.push(...validateNonnegative(pds, child(path, 'progressDeadlineSeconds')))
    if (pds <= minReady) errs.push(fe.invalid(child(path, 'progressDeadlineSeconds'), pds, 'must be greater than minReadySeconds'))
  }
  return errs
}

export function validateDeployment(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateDeploymentSpec(rec(obj.spec), 'spec')]
}

function selectorImmutable(n: Json, o: Json): FieldError[] {
  const ns = rec(n.spec).selector
  const os = rec(o.spec).selector
  return semanticEqual(ns, os) ? [] : [fe.invalid(child('spec', 'selector'), goLabelSelector(ns), FIELD_IMMUTABLE)]
}

export function validateDeploymentUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateDeploymentSpec(rec(n.spec), 'spec'), ...selectorImmutable(n, o)]
}

export function validateReplicaSet(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateReplicaSetSpec(rec(obj.spec), 'spec')]
}

export function validateReplicaSetUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateReplicaSetSpec(rec(n.spec), 'spec'), ...selectorImmutable(n, o)]
}

// ---- DaemonSet

function validateDaemonSetUpdateStrategy(strategy: Json, path: string): FieldError[] {
  const type = str(strategy.type)
  if (type === 'OnDelete') return []
  if (type === 'RollingUpdate') {
    if (!isRecord(strategy.rollingUpdate)) return [fe.required(child(path, 'rollingUpdate'), '')]
    const ru = strategy.rollingUpdate
    const p = child(path, 'rollingUpdate')
    const errs = [...validatePositiveIntOrPercent(ru.maxUnavailable, child(p, 'maxUnavailable')), ...validatePositiveIntOrPercent(ru.maxSurge, child(p, 'maxSurge'))]
    errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(p, 'maxUnavailable')), ...isNotMoreThan100Percent(ru.maxSurge, child(p, 'maxSurge')))
    const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0
    const hasSurge = intOrPercentValue(ru.maxSurge) !== 0
    if (hasUnavailable && hasSurge) errs.push(fe.invalid(child(p, 'maxSurge'), goIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'))
    else if (!hasUnavailable && !hasSurge) errs.push(fe.required(child(p, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0'))
    return errs
  }
  return [fe.notSupported(path, strategyText('DaemonSetUpdateStrategy', 'RollingUpdateDaemonSet', strategy), ['RollingUpdate', 'OnDelete'])]
}

function validateDaemonSetSpec(spec: Json, path: string): FieldError[] {
  const errs = validateLabelSelector(spec.selector, child(path, 'selector'))
  const selector = selectorOrError(spec.selector)
  const labels = templateLabels(spec.template)
  if (selector !== undefined && !selector.matches(labels)) errs.push(fe.invalid(child(path, 'template', 'metadata', 'labels'), goStringMap(labels), SELECTOR_MISMATCH))
  const s = spec.selector
  if (isRecord(s) && Object.keys(rec(s.matchLabels)).length + (Array.isArray(s.matchExpressions) ? s.matchExpressions.length : 0) === 0) {
    errs.push(fe.invalid(child(path, 'selector'), goLabelSelector(s), 'empty selector is invalid for daemonset'))
  }
  errs.push(...validatePodTemplateSpec(spec.template, child(path, 'template')))
  const podSpec = rec(rec(spec.template).spec)
  if (str(podSpec.restartPolicy) !== 'Always') errs.push(fe.notSupported(child(path, 'template', 'spec', 'restartPolicy'), str(podSpec.restartPolicy), ['Always']))
  if (podSpec.activeDeadlineSeconds != null) errs.push(fe.forbidden(child(path, 'template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in DaemonSet is not Supported'))
  errs.push(...validateNonnegative(num(spec.minReadySeconds) ?? 0, child(path, 'minReadySeconds')))
  errs.push(...validateDaemonSetUpdateStrategy(rec(spec.updateStrategy), child(path, 'updateStrategy')))
  if (spec.revisionHistoryLimit != null) errs.push(...validateNonnegative(num(spec.revisionHistoryLimit), child(path, 'revisionHistoryLimit')))
  return errs
}

export function validateDaemonSet(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateDaemonSetSpec(rec(obj.spec), 'spec')]
}

export function validateDaemonSetUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateDaemonSetSpec(rec(n.spec), 'spec'), ...selectorImmutable(n, o)]
}

// ---- StatefulSet

function validateStatefulSetSpec(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  const pmp = str(spec.podManagementPolicy)
  if (pmp === '') errs.push(fe.required(child(path, 'podManagementPolicy'), ''))
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(fe.invalid(child(path, 'podManagementPolicy'), pmp, "must be 'OrderedReady' or 'Parallel'"))
  const strategy = rec(spec.updateStrategy)
  switch (str(strategy.type)) {
    case '':
      errs.push(fe.required(child(path, 'updateStrategy'), ''))
      break
    case 'OnDelete':
      if (strategy.rollingUpdate != null) errs.push(fe.invalid(child(path, 'updateStrategy', 'rollingUpdate'), JSON.stringify(strategy.rollingUpdate), "only allowed for updateStrategy 'RollingUpdate'"))
      break
    case 'RollingUpdate':
      if (isRecord(strategy.rollingUpdate)) {
        const ru = strategy.rollingUpdate
        const p = child(path, 'updateStrategy', 'rollingUpdate')
        errs.push(...validateNonnegative(num(ru.partition) ?? 0, child(p, 'partition')))
        if (ru.maxUnavailable != null) {
          errs.push(...validatePositiveIntOrPercent(ru.maxUnavailable, child(p, 'maxUnavailable')))
          if (intOrPercentValue(ru.maxUnavailable) === 0) errs.push(fe.invalid(child(p, 'maxUnavailable'), goIntOrString(ru.maxUnavailable), 'cannot be 0'))
          errs.push(...isNotMoreThan100Percent(ru.maxUnavailable, child(p, 'maxUnavailable')))
        }
      }
      break
    default:
      errs.push(fe.invalid(child(path, 'updateStrategy'), JSON.stringify(strategy), "must be 'RollingUpdate' or 'OnDelete'"))
  }
  const retention = spec.persistentVolumeClaimRetentionPolicy
  if (isRecord(retention)) {
    for (const k of ['whenDeleted', 'whenScaled']) {
      const v = str(retention[k])
      if (v !== 'Retain' && v !== 'Delete') errs.push(fe.notSupported(child(path, 'persistentVolumeClaimRetentionPolicy', k), v, ['Retain', 'Delete']))
    }
  }
  errs.push(...validateNonnegative(num(spec.replicas) ?? 0, child(path, 'replicas')))
  errs.push(...validateNonnegative(num(spec.minReadySeconds) ?? 0, child(path, 'minReadySeconds')))
  if (isRecord(spec.ordinals)) errs.push(...validateNonnegative(num(spec.ordinals.start) ?? 0, child(path, 'ordinals.start')))
  errs.push(...validateRequiredSelector(spec, path, 'statefulset'))
  const selector = selectorOrError(spec.selector)
  if (selector === undefined) {
    errs.push(fe.invalid(child(path, 'selector'), goLabelSelector(spec.selector), ''))
  } else if (!isRecord(spec.template)) {
    errs.push(fe.required(child(path, 'template'), ''))
  } else {
    // Upstream checks only the template's metadata here, not its pod spec.
    const tp = child(path, 'template')
    const labels = templateLabels(spec.template)
    if (!selector.empty() && !selector.matches(labels)) errs.push(fe.invalid(child(tp, 'metadata', 'labels'), goStringMap(labels), SELECTOR_MISMATCH))
    errs.push(...validateLabels(rec(spec.template.metadata).labels, child(tp, 'labels')))
    errs.push(...validateAnnotations(rec(spec.template.metadata).annotations, child(tp, 'annotations')))
  }
  const podSpec = rec(rec(spec.template).spec)
  if (str(podSpec.restartPolicy) !== 'Always') errs.push(fe.notSupported(child(path, 'template', 'spec', 'restartPolicy'), str(podSpec.restartPolicy), ['Always']))
  if (podSpec.activeDeadlineSeconds != null) errs.push(fe.forbidden(child(path, 'template', 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in StatefulSet is not Supported'))
  return errs
}

export function validateStatefulSet(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSLabel), ...validateStatefulSetSpec(rec(obj.spec), 'spec')]
}

const STS_MUTABLE = ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy']

export function validateStatefulSetUpdate(n: Json, o: Json): FieldError[] {
  const errs = [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateStatefulSetSpec(rec(n.spec), 'spec')]
  const ns = { ...rec(n.spec) }
  const os = rec(o.spec)
  for (const k of STS_MUTABLE) ns[k] = os[k]
  if (!semanticEqual(ns, os)) {
    errs.push(fe.forbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
  }
  return errs
}

// ---- ControllerRevision

export function validateControllerRevision(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  if (obj.data === undefined || obj.data === null) errs.push(fe.required('data', 'data is mandatory'))
  errs.push(...validateNonnegative(num(obj.revision) ?? 0, 'revision'))
  return errs
}

export function validateControllerRevisionUpdate(n: Json, o: Json): FieldError[] {
  const errs = [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateControllerRevision(n)]
  if (!semanticEqual(n.data, o.data)) errs.push(fe.invalid('data', JSON.stringify(n.data ?? null), FIELD_IMMUTABLE))
  return errs
}

// ---- ReplicationController (core/v1)

function validateRCSpec(spec: Json, path: string): FieldError[] {
  const errs = validateNonnegative(num(spec.minReadySeconds) ?? 0, child(path, 'minReadySeconds'))
  const selectorMap = rec(spec.selector)
  const selector = selectorFromSet(selectorMap as Record<string, string>)
  if (selector.empty()) errs.push(fe.required(child(path, 'selector'), ''))
  errs.push(...validateNonnegative(num(spec.replicas) ?? 0, child(path, 'replicas')))
  const tp = child(path, 'template')
  if (!isRecord(spec.template)) {
    errs.push(fe.required(tp, ''))
    return errs
  }
  const labels = templateLabels(spec.template)
  if (!selector.empty() && !selector.matches(labels)) errs.push(fe.invalid(child(tp, 'metadata', 'labels'), goStringMap(labels), SELECTOR_MISMATCH))
  errs.push(...validatePodTemplateSpec(spec.template, tp))
  const podSpec = rec(spec.template.spec)
  if (str(podSpec.restartPolicy) !== 'Always') errs.push(fe.notSupported(child(tp, 'spec', 'restartPolicy'), str(podSpec.restartPolicy), ['Always']))
  if (podSpec.activeDeadlineSeconds != null) errs.push(fe.forbidden(child(tp, 'spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicationController is not Supported'))
  return errs
}

export function validateReplicationController(obj: Json): FieldError[] {
  return [...validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain), ...validateRCSpec(rec(obj.spec), 'spec')]
}

export function validateReplicationControllerUpdate(n: Json, o: Json): FieldError[] {
  return [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateRCSpec(rec(n.spec), 'spec')]
}

// ---- status of the replica-counting kinds

const READY_NOT_ABOVE = 'cannot be greater than status.replicas'

/** Status checks of Deployment, ReplicaSet, StatefulSet, RC and DaemonSet status updates. */
export function validateWorkloadStatus(kind: string, statusValue: unknown): FieldError[] {
  const s = rec(statusValue)
  const errs: FieldError[] = []
  const n = (k: string): number => num(s[k]) ?? 0
  const nonneg = (keys: string[]): void => keys.forEach((k) => errs.push(...validateNonnegative(n(k), child('status', k))))
  if (kind === 'DaemonSet') {
    nonneg(['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable'])
    return errs
  }
  if (kind === 'Deployment') nonneg(['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'])
  else if (kind === 'StatefulSet') nonneg(['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'])
  else nonneg(['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'])
  const over = (k: string): void => {
    if (n(k) > n('replicas')) errs.push(fe.invalid(child('status', k), n(k), READY_NOT_ABOVE))
  }
  if (kind === 'Deployment') over('updatedReplicas')
  if (kind === 'ReplicaSet' || kind === 'ReplicationController') over('fullyLabeledReplicas')
  over('readyReplicas')
  if (kind === 'StatefulSet') {
    over('currentReplicas')
    over('updatedReplicas')
  }
  over('availableReplicas')
  if (n('availableReplicas') > n('readyReplicas')) {
    errs.push(fe.invalid(child('status', 'availableReplicas'), n('availableReplicas'), kind === 'StatefulSet' ? 'cannot be greater than status.readyReplicas' : 'cannot be greater than readyReplicas'))
  }
  return errs
}
