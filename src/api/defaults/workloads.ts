// Defaults for the workload kinds: apps/v1 (Deployment, ReplicaSet, StatefulSet,
// DaemonSet), core/v1 ReplicationController, batch/v1 (Job, CronJob) and
// autoscaling/v2 HorizontalPodAutoscaler, as their SetDefaults_* functions.
import { ensureRecord, isRecord, rec, recs, setDefault, type Json } from '../json.js'
import { defaultPodTemplate, defaultPVCSpec } from './pod.js'

function blank(o: Json, k: string): boolean {
  return o[k] === undefined || o[k] === null || o[k] === ''
}

function hasEntries(v: unknown): boolean {
  return isRecord(v) && Object.keys(v).length > 0
}

export function defaultDeployment(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  setDefault(spec, 'replicas', 1)
  const strategy = ensureRecord(spec, 'strategy')
  if (blank(strategy, 'type')) strategy.type = 'RollingUpdate'
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureRecord(strategy, 'rollingUpdate')
    setDefault(ru, 'maxUnavailable', '25%')
    setDefault(ru, 'maxSurge', '25%')
  }
  setDefault(spec, 'revisionHistoryLimit', 10)
  setDefault(spec, 'progressDeadlineSeconds', 600)
  defaultPodTemplate(ensureRecord(spec, 'template'))
}

export function defaultReplicaSet(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  setDefault(spec, 'replicas', 1)
  defaultPodTemplate(ensureRecord(spec, 'template'))
}

export function defaultReplicationController(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  const template = spec.template
  const labels = isRecord(template) ? rec(template.metadata).labels : undefined
  // The legacy controller infers its selector (and its own labels) from the template.
  if (isRecord(labels)) {
    if (!hasEntries(spec.selector)) spec.selector = { ...labels }
    const meta = ensureRecord(obj, 'metadata')
    if (!hasEntries(meta.labels)) meta.labels = { ...labels }
  }
  setDefault(spec, 'replicas', 1)
  defaultPodTemplate(template)
}

export function defaultStatefulSet(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  if (blank(spec, 'podManagementPolicy')) spec.podManagementPolicy = 'OrderedReady'
  const strategy = ensureRecord(spec, 'updateStrategy')
  if (blank(strategy, 'type')) {
    strategy.type = 'RollingUpdate'
    ensureRecord(strategy, 'rollingUpdate')
  }
  if (strategy.type === 'RollingUpdate' && isRecord(strategy.rollingUpdate)) setDefault(strategy.rollingUpdate, 'partition', 0)
  const retention = ensureRecord(spec, 'persistentVolumeClaimRetentionPolicy')
  if (blank(retention, 'whenDeleted')) retention.whenDeleted = 'Retain'
  if (blank(retention, 'whenScaled')) retention.whenScaled = 'Retain'
  setDefault(spec, 'replicas', 1)
  setDefault(spec, 'revisionHistoryLimit', 10)
  defaultPodTemplate(ensureRecord(spec, 'template'))
  // Claim templates are whole PersistentVolumeClaims to the defaulter, status included.
  for (const claim of recs(spec.volumeClaimTemplates)) {
    defaultPVCSpec(ensureRecord(claim, 'spec'))
    const status = ensureRecord(claim, 'status')
    if (blank(status, 'phase')) status.phase = 'Pending'
  }
}

export function defaultDaemonSet(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  const strategy = ensureRecord(spec, 'updateStrategy')
  if (blank(strategy, 'type')) strategy.type = 'RollingUpdate'
  if (strategy.type === 'RollingUpdate') {
    const ru = ensureRecord(strategy, 'rollingUpdate')
    setDefault(ru, 'maxUnavailable', 1)
    setDefault(ru, 'maxSurge', 0)
  }
  setDefault(spec, 'revisionHistoryLimit', 10)
  defaultPodTemplate(ensureRecord(spec, 'template'))
}

function defaultJobSpecCommon(spec: Json): void {
  for (const rule of recs(rec(spec.podFailurePolicy).rules)) {
    for (const pattern of recs(rule.onPodConditions)) if (blank(pattern, 'status')) pattern.status = 'True'
  }
  defaultPodTemplate(ensureRecord(spec, 'template'))
}

export function defaultJob(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1
    spec.parallelism = 1
  }
  setDefault(spec, 'parallelism', 1)
  if (spec.backoffLimit == null) spec.backoffLimit = spec.backoffLimitPerIndex != null ? 2147483647 : 6
  const templateLabels = rec(rec(spec.template).metadata).labels
  const meta = ensureRecord(obj, 'metadata')
  if (isRecord(templateLabels) && !hasEntries(meta.labels)) meta.labels = { ...templateLabels }
  setDefault(spec, 'completionMode', 'NonIndexed')
  setDefault(spec, 'suspend', false)
  setDefault(spec, 'podReplacementPolicy', spec.podFailurePolicy != null ? 'Failed' : 'TerminatingOrFailed')
  setDefault(spec, 'manualSelector', false)
  defaultJobSpecCommon(spec)
}

// batch/v1's legacy and current label names for a job's generated selector.
const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid'
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid'
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name'
const LEGACY_JOB_NAME_LABEL = 'job-name'

/**
 * What the Job registry does on create unless spec.manualSelector is true: label the
 * pod template with the job's name and uid and select on the uid (generateSelector).
 */
export function jobSelectorDefaults(job: Json, uid: string): void {
  const spec = ensureRecord(job, 'spec')
  if (spec.manualSelector === true) return
  const name = typeof rec(job.metadata).name === 'string' ? (rec(job.metadata).name as string) : ''
  const templateMeta = ensureRecord(ensureRecord(spec, 'template'), 'metadata')
  const labels = ensureRecord(templateMeta, 'labels')
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid
  const selector = ensureRecord(spec, 'selector')
  const matchLabels = ensureRecord(selector, 'matchLabels')
  if (!(CONTROLLER_UID_LABEL in matchLabels)) matchLabels[CONTROLLER_UID_LABEL] = uid
}

export function defaultCronJob(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  if (blank(spec, 'concurrencyPolicy')) spec.concurrencyPolicy = 'Allow'
  setDefault(spec, 'suspend', false)
  setDefault(spec, 'successfulJobsHistoryLimit', 3)
  setDefault(spec, 'failedJobsHistoryLimit', 1)
  defaultJobSpecCommon(ensureRecord(ensureRecord(spec, 'jobTemplate'), 'spec'))
}

// autoscaling/v2's default scaling rules (GenerateHPAScaleUpRules / ScaleDownRules).
const SCALE_UP = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] }
const SCALE_DOWN = { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }

function scalingRules(rules: unknown, defaults: Json, stabilization: number | undefined): Json {
  const r = isRecord(rules) ? rules : {}
  const out: Json = { ...r }
  if (out.stabilizationWindowSeconds == null && stabilization !== undefined) out.stabilizationWindowSeconds = stabilization
  if (out.selectPolicy == null) out.selectPolicy = defaults.selectPolicy
  if (out.policies == null) out.policies = structuredClone(defaults.policies)
  return out
}

export function defaultHorizontalPodAutoscaler(obj: Json): void {
  const spec = ensureRecord(obj, 'spec')
  setDefault(spec, 'minReplicas', 1)
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]
  }
  if (isRecord(spec.behavior)) {
    spec.behavior.scaleUp = scalingRules(spec.behavior.scaleUp, SCALE_UP, 0)
    spec.behavior.scaleDown = scalingRules(spec.behavior.scaleDown, SCALE_DOWN, undefined)
  }
}
