// batch/v1 Job and CronJob (batch/validation), with the Job registry's rules: the
// generated selector must carry the job's uid, and selector and template are fixed
// after creation (the template's scheduling fields stay mutable while a job that
// never ran is suspended).
import { LabelSelectorError, selectorFromLabelSelector } from '../labels.js'
import { num, rec, semanticEqual, str, type Json } from '../json.js'
import { child, fieldErrors as fe, type FieldError } from './errors.js'
import { goLabelSelector, goStringMap } from './go-format.js'
import { FIELD_IMMUTABLE, validateLabelSelector, validateNonnegative, validateObjectMeta, validateObjectMetaUpdate } from './meta.js'
import { isDNS1123Label, nameIsDNSSubdomain } from './names.js'
import { validatePodTemplateSpec } from './pod.js'
import { cronScheduleError } from './cron.js'

const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid'
const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid'
const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name'
const LEGACY_JOB_NAME_LABEL = 'job-name'
const MAX_PARALLELISM_INDEXED = 100000

function validateHasLabel(templateMeta: Json, path: string, k: string, expected: string): FieldError[] {
  const labels = rec(templateMeta.labels)
  if (!(k in labels)) return [fe.required(`${child(path, 'labels')}[${k}]`, `must be '${expected}'`)]
  if (str(labels[k]) !== expected) return [fe.invalid(`${child(path, 'labels')}[${k}]`, goStringMap(labels), `must be '${expected}'`)]
  return []
}

// validateGeneratedSelector: unless manualSelector, the template carries the job's
// name and uid labels and the selector selects them.
function validateGeneratedSelector(job: Json): FieldError[] {
  const spec = rec(job.spec)
  if (spec.manualSelector === true || spec.selector == null) return []
  const errs: FieldError[] = []
  const meta = rec(job.metadata)
  const uid = str(meta.uid)
  const name = str(meta.name)
  if (uid === '') errs.push(fe.required(child('metadata', 'uid'), ''))
  const templateMeta = rec(rec(spec.template).metadata)
  const tp = child('spec', 'template', 'metadata')
  errs.push(...validateHasLabel(templateMeta, tp, LEGACY_CONTROLLER_UID_LABEL, uid))
  errs.push(...validateHasLabel(templateMeta, tp, LEGACY_JOB_NAME_LABEL, name))
  errs.push(...validateHasLabel(templateMeta, tp, CONTROLLER_UID_LABEL, uid))
  errs.push(...validateHasLabel(templateMeta, tp, JOB_NAME_LABEL, name))
  const expected = { [CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: name, [LEGACY_CONTROLLER_UID_LABEL]: uid, [LEGACY_JOB_NAME_LABEL]: name }
  try {
    if (!selectorFromLabelSelector(spec.selector).matches(expected)) {
      errs.push(fe.invalid(child('spec', 'selector'), goLabelSelector(spec.selector), '`selector` not auto-generated'))
    }
  } catch (e) {
    if (!(e instanceof LabelSelectorError)) throw e
  }
  return errs
}

// validateJobSpec: what a Job and a CronJob's job template share.
function validateJobSpecCommon(spec: Json, path: string): FieldError[] {
  const errs: FieldError[] = []
  for (const k of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished']) {
    if (spec[k] != null) errs.push(...validateNonnegative(num(spec[k]) ?? 0, child(path, k)))
  }
  if (spec.completionMode != null) {
    const mode = str(spec.completionMode)
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(fe.notSupported(child(path, 'completionMode'), mode, ['NonIndexed', 'Indexed']))
    if (mode === 'Indexed') {
      if (spec.completions == null) errs.push(fe.required(child(path, 'completions'), 'when completion mode is Indexed'))
      const parallelism = num(spec.parallelism)
      if (parallelism !== undefined && parallelism > MAX_PARALLELISM_INDEXED) {
        errs.push(fe.invalid(child(path, 'parallelism'), parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`))
      }
    }
  }
  if (spec.podReplacementPolicy != null) {
    const prp = str(spec.podReplacementPolicy)
    const allowed = spec.podFailurePolicy != null ? ['Failed'] : ['Failed', 'TerminatingOrFailed']
    if (!allowed.includes(prp)) errs.push(fe.notSupported(child(path, 'podReplacementPolicy'), prp, allowed))
  }
  errs.push(...validatePodTemplateSpec(spec.template, child(path, 'template')))
  const restartPolicy = str(rec(rec(spec.template).spec).restartPolicy)
  const rpPath = child(path, 'template', 'spec', 'restartPolicy')
  if (restartPolicy === 'Always' || restartPolicy === '') errs.push(fe.required(rpPath, 'valid values: "OnFailure", "Never"'))
  else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') errs.push(fe.notSupported(rpPath, restartPolicy, ['OnFailure', 'Never']))
  else if (spec.podFailurePolicy != null && restartPolicy !== 'Never') errs.push(fe.invalid(rpPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'))
  return errs
}

function validateJobSpec(spec: Json, path: string): FieldError[] {
  const errs = validateJobSpecCommon(spec, path)
  if (spec.selector == null) errs.push(fe.required(child(path, 'selector'), ''))
  else errs.push(...validateLabelSelector(spec.selector, child(path, 'selector')))
  try {
    const selector = selectorFromLabelSelector(spec.selector)
    const labels = rec(rec(rec(spec.template).metadata).labels) as Record<string, string>
    if (!selector.matches(labels)) {
      errs.push(fe.invalid(child(path, 'template', 'metadata', 'labels'), goStringMap(rec(rec(spec.template).metadata).labels ?? undefined), '`selector` does not match template `labels`'))
    }
  } catch (e) {
    if (!(e instanceof LabelSelectorError)) throw e
  }
  return errs
}

export function validateJob(job: Json): FieldError[] {
  const errs = validateObjectMeta(job.metadata, true, nameIsDNSSubdomain)
  errs.push(...validateGeneratedSelector(job))
  errs.push(...validateJobSpec(rec(job.spec), 'spec'))
  const spec = rec(job.spec)
  const completions = num(spec.completions)
  if (spec.completionMode === 'Indexed' && completions !== undefined && completions > 0) {
    const name = str(rec(job.metadata).name)
    const hostname = `${name}-${completions - 1}`
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(fe.invalid(child('metadata', 'name'), name, `will not able to create pod with invalid DNS label: ${hostname}`))
    }
  }
  return errs
}

// A suspended job that never started may still change where its pods run.
function mutableSchedulingDirectives(n: Json, o: Json): boolean {
  return rec(n.spec).suspend === true && rec(o.status).startTime == null
}

export function validateJobUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  const ns = rec(n.spec)
  const os = rec(o.spec)
  errs.push(...validateJobSpec(ns, 'spec'))
  // Completions may change only together with parallelism for elastic Indexed jobs.
  if (!semanticEqual(ns.completions, os.completions)) {
    const elastic = ns.completionMode === 'Indexed' && os.completionMode === 'Indexed' && num(ns.completions) === num(ns.parallelism) && num(os.completions) === num(os.parallelism)
    if (!elastic) errs.push(fe.invalid(child('spec', 'completions'), num(ns.completions) ?? null, FIELD_IMMUTABLE))
  }
  if (!semanticEqual(ns.selector, os.selector)) errs.push(fe.invalid(child('spec', 'selector'), goLabelSelector(ns.selector), FIELD_IMMUTABLE))
  let oldTemplate = rec(os.template)
  const newTemplate = rec(ns.template)
  if (mutableSchedulingDirectives(n, o)) {
    const ot = structuredClone(oldTemplate)
    const otSpec = rec(ot.spec)
    const ntSpec = rec(newTemplate.spec)
    for (const k of ['nodeSelector', 'tolerations', 'schedulingGates', 'affinity']) otSpec[k] = ntSpec[k]
    ot.spec = otSpec
    const otMeta = rec(ot.metadata)
    otMeta.labels = rec(newTemplate.metadata).labels
    otMeta.annotations = rec(newTemplate.metadata).annotations
    ot.metadata = otMeta
    oldTemplate = ot
  }
  if (!semanticEqual(newTemplate, oldTemplate)) errs.push(fe.invalid(child('spec', 'template'), JSON.stringify(newTemplate), FIELD_IMMUTABLE))
  for (const k of ['completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
    if (!semanticEqual(ns[k], os[k])) errs.push(fe.invalid(child('spec', k), typeof ns[k] === 'string' ? ns[k] : JSON.stringify(ns[k] ?? null), FIELD_IMMUTABLE))
  }
  return errs
}

// ---- CronJob

const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace']

function validateCronJobSpec(spec: Json, oldSpec: Json | undefined, path: string): FieldError[] {
  const errs: FieldError[] = []
  const schedule = str(spec.schedule)
  if (schedule === '') {
    errs.push(fe.required(child(path, 'schedule'), ''))
  } else {
    const parseErr = cronScheduleError(schedule)
    if (parseErr !== undefined) errs.push(fe.invalid(child(path, 'schedule'), schedule, parseErr))
    const allowTZ = oldSpec !== undefined && str(oldSpec.schedule).includes('TZ')
    if (allowTZ && schedule.includes('TZ') && spec.timeZone != null) {
      errs.push(fe.invalid(child(path, 'schedule'), schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'))
    } else if (!allowTZ && schedule.includes('TZ')) {
      errs.push(fe.invalid(child(path, 'schedule'), schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'))
    }
  }
  if (spec.startingDeadlineSeconds != null) errs.push(...validateNonnegative(num(spec.startingDeadlineSeconds) ?? 0, child(path, 'startingDeadlineSeconds')))
  if (spec.timeZone != null && (oldSpec === undefined || oldSpec.timeZone !== spec.timeZone)) {
    const tz = str(spec.timeZone)
    if (!isKnownTimeZone(tz)) errs.push(fe.invalid(child(path, 'timeZone'), tz, `unknown time zone ${tz}`))
  }
  const cp = str(spec.concurrencyPolicy)
  if (cp === '') errs.push(fe.required(child(path, 'concurrencyPolicy'), ''))
  else if (!CONCURRENCY_POLICIES.includes(cp)) errs.push(fe.notSupported(child(path, 'concurrencyPolicy'), cp, CONCURRENCY_POLICIES))
  const jt = rec(spec.jobTemplate)
  const jtPath = child(path, 'jobTemplate')
  const jobSpec = rec(jt.spec)
  errs.push(...validateJobSpecCommon(jobSpec, child(jtPath, 'spec')))
  if (jobSpec.selector != null) errs.push(fe.invalid(child(jtPath, 'spec', 'selector'), goLabelSelector(jobSpec.selector), '`selector` will be auto-generated'))
  if (jobSpec.manualSelector === true) errs.push(fe.notSupported(child(jtPath, 'spec', 'manualSelector'), true, ['nil', 'false']))
  for (const k of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) {
    if (spec[k] != null) errs.push(...validateNonnegative(num(spec[k]) ?? 0, child(path, k)))
  }
  return errs
}

function isKnownTimeZone(tz: string): boolean {
  // Go's time.LoadLocation rejects "Local" for CronJobs' purposes and accepts IANA names.
  if (tz === '' || tz === 'Local') return false
  if (tz === 'UTC') return true
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export function validateCronJob(obj: Json): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, nameIsDNSSubdomain)
  errs.push(...validateCronJobSpec(rec(obj.spec), undefined, 'spec'))
  const name = str(rec(obj.metadata).name)
  // The controller appends an 11-character suffix to name its jobs.
  if (name.length > 52) errs.push(fe.invalid(child('metadata', 'name'), name, 'must be no more than 52 characters'))
  return errs
}

export function validateCronJobUpdate(n: Json, o: Json): FieldError[] {
  const errs = validateObjectMetaUpdate(n.metadata, o.metadata)
  errs.push(...validateCronJobSpec(rec(n.spec), rec(o.spec), 'spec'))
  return errs
}

