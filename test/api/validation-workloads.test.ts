// Workload validation: selectors and templates, replicas and strategies of the apps
// kinds and ReplicationControllers, Job and CronJob rules, and what updates may change.
import t from 'tap'
import { applyDefaults, jobSelectorDefaults } from '../../src/api/defaults.js'
import type { Json } from '../../src/api/json.js'
import { cronScheduleError } from '../../src/api/validation/cron.js'
import { clone, createErrors, deployment, rt, template, updateErrors } from './fixtures.js'

const NO_MATCH = '`selector` does not match template `labels`'

function stored(kind: string, obj: Json): Json {
  applyDefaults(rt(kind), obj)
  if (kind === 'Job') jobSelectorDefaults(obj, 'uid-1')
  return obj
}

t.test('Deployments', async (t) => {
  t.strictSame(createErrors('Deployment', deployment()), [])
  t.strictSame(createErrors('Deployment', deployment({ selector: undefined })), [
    'spec.selector: Required value',
    `spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${NO_MATCH}`,
  ])
  t.strictSame(createErrors('Deployment', deployment({ selector: {} })), [
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
  ])
  t.strictSame(createErrors('Deployment', deployment({ selector: { matchLabels: { app: 'api' } } })), [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${NO_MATCH}`])
  t.strictSame(createErrors('Deployment', deployment({ replicas: -1, template: template({ app: 'web' }, { restartPolicy: 'Never' }) })), [
    'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
  ])
  t.strictSame(createErrors('Deployment', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } })), [
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
  ])
  t.strictSame(createErrors('Deployment', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'x', maxUnavailable: '150%' } } })), [
    "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"x\"}: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
  ])
  t.strictSame(createErrors('Deployment', deployment({ strategy: { type: 'Recreate', rollingUpdate: {} } })), ["spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"])
  t.strictSame(createErrors('Deployment', deployment({ progressDeadlineSeconds: 5, minReadySeconds: 10 })), ['spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds'])

  const old = stored('Deployment', deployment())
  const scaled = clone(old)
  ;(scaled.spec as Json).replicas = 5
  t.strictSame(updateErrors('Deployment', old, scaled), [])
  const moved = clone(old)
  ;(moved.spec as Json).selector = { matchLabels: { app: 'web', v: '2' } }
  ;(((moved.spec as Json).template as Json).metadata as Json).labels = { app: 'web', v: '2' }
  t.strictSame(updateErrors('Deployment', old, moved), ['spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable'])
})

t.test('ReplicaSets and ReplicationControllers', async (t) => {
  const rs = { metadata: { name: 'rs', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } }
  t.strictSame(createErrors('ReplicaSet', rs), [])
  t.strictSame(createErrors('ReplicaSet', { ...rs, spec: { ...rs.spec, selector: { matchExpressions: [{ key: 'app', operator: 'Maybe' }] } } }), [
    'spec.selector.matchExpressions[0].operator: Invalid value: "Maybe": not a valid selector operator',
    'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"Maybe", Values:[]string(nil)}}}: invalid label selector',
  ])
  // An RC infers its selector from the template labels.
  t.strictSame(createErrors('ReplicationController', { metadata: { name: 'rc', namespace: 'default' }, spec: { template: template() } }), [])
  t.strictSame(createErrors('ReplicationController', { metadata: { name: 'rc', namespace: 'default' }, spec: { template: template({}) } }), ['spec.selector: Required value'])
  t.strictSame(createErrors('ReplicationController', { metadata: { name: 'rc', namespace: 'default' }, spec: { selector: { app: 'x' }, template: template() } }), [
    `spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${NO_MATCH}`,
  ])
})

t.test('DaemonSets', async (t) => {
  const ds = { metadata: { name: 'ds', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'web' } }, template: template() } }
  t.strictSame(createErrors('DaemonSet', ds), [])
  t.strictSame(createErrors('DaemonSet', { ...ds, spec: { template: template() } }), [`spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: ${NO_MATCH}`])
  t.strictSame(createErrors('DaemonSet', { ...ds, spec: { ...ds.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } } } }), [
    'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero',
  ])
  t.strictSame(createErrors('DaemonSet', { ...ds, spec: { ...ds.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } } }), [
    'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
  ])
})

t.test('StatefulSets', async (t) => {
  const sts = { metadata: { name: 'db', namespace: 'default', resourceVersion: '3' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'web' } }, template: template() } }
  t.strictSame(createErrors('StatefulSet', clone(sts)), [])
  t.strictSame(createErrors('StatefulSet', { ...clone(sts), metadata: { name: 'db.v1', namespace: 'default', resourceVersion: '3' } }), ['metadata.name: Invalid value: "db.v1": must not contain dots'])
  t.strictSame(createErrors('StatefulSet', { ...clone(sts), spec: { ...clone(sts.spec), podManagementPolicy: 'Random' } }), ["spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"])
  // Upstream does not validate a StatefulSet's pod spec, only its template metadata.
  t.strictSame(createErrors('StatefulSet', { ...clone(sts), spec: { ...clone(sts.spec), template: { metadata: { labels: { app: 'web' } }, spec: { containers: [] } } } }), [])

  const old = stored('StatefulSet', clone(sts))
  const scaled = clone(old)
  ;(scaled.spec as Json).replicas = 3
  t.strictSame(updateErrors('StatefulSet', old, scaled), [])
  const renamed = clone(old)
  ;(renamed.spec as Json).serviceName = 'other'
  t.strictSame(updateErrors('StatefulSet', old, renamed), [
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
  ])
})

t.test('Jobs', async (t) => {
  const job = (spec: Json = {}): Json => ({
    metadata: { name: 'pi', namespace: 'default', uid: 'uid-1', resourceVersion: '4' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'perl' }] } }, ...spec },
  })
  t.strictSame(createErrors('Job', job()), [])
  t.strictSame(createErrors('Job', job({ template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } } })), ['spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'])
  t.strictSame(createErrors('Job', job({ parallelism: -1, backoffLimit: -2 })), [
    'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
    'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0',
  ])
  t.strictSame(createErrors('Job', job({ completionMode: 'Indexed', parallelism: 2 })), ['spec.completions: Required value: when completion mode is Indexed'])
  const manual = job({ manualSelector: true, selector: { matchLabels: { a: 'b' } } })
  t.strictSame(createErrors('Job', manual), [`spec.template.metadata.labels: Invalid value: map[string]string(nil): ${NO_MATCH}`])

  const old = stored('Job', job())
  const changed = clone(old)
  ;(changed.spec as Json).selector = { matchLabels: { other: 'x' } }
  t.match(updateErrors('Job', old, changed), ['spec.template.metadata.labels: Invalid value: map[string]string{', 'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"other":"x"}'])
  const image = clone(old)
  ;((((image.spec as Json).template as Json).spec as Json).containers as Json[])[0].image = 'perl:2'
  t.match(updateErrors('Job', old, image), [/^spec\.template: Invalid value: .*: field is immutable$/])
  const suspended = clone(old)
  ;(suspended.spec as Json).suspend = true
  ;(((suspended.spec as Json).template as Json).spec as Json).nodeSelector = { zone: 'a' }
  t.strictSame(updateErrors('Job', old, suspended), [], 'a suspended job that never started may change its scheduling directives')
})

t.test('CronJobs and cron schedules', async (t) => {
  const cj = (spec: Json = {}, name = 'hourly'): Json => ({
    metadata: { name, namespace: 'default' },
    spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'x' }] } } } }, ...spec },
  })
  t.strictSame(createErrors('CronJob', cj()), [])
  t.strictSame(createErrors('CronJob', cj({ schedule: '61 * * * *' })), ['spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'])
  t.strictSame(createErrors('CronJob', cj({ schedule: 'TZ=UTC 0 * * * *' })), ['spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead'])
  t.strictSame(createErrors('CronJob', cj({ concurrencyPolicy: 'Sometimes' })), ['spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"'])
  t.strictSame(createErrors('CronJob', cj({ timeZone: 'Mars/Olympus' })), ['spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus'])
  t.strictSame(createErrors('CronJob', cj({}, 'c'.repeat(53))), [`metadata.name: Invalid value: "${'c'.repeat(53)}": must be no more than 52 characters`])

  t.equal(cronScheduleError('*/15 0-6 1,15 jan-mar mon-fri'), undefined)
  t.equal(cronScheduleError('@daily'), undefined)
  t.equal(cronScheduleError('@every 1h30m'), undefined)
  t.equal(cronScheduleError(''), 'empty spec string')
  t.equal(cronScheduleError('* * *'), 'expected exactly 5 fields, found 3: [* * *]')
  t.equal(cronScheduleError('@often'), 'unrecognized descriptor: @often')
  t.equal(cronScheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1')
  t.equal(cronScheduleError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax')
  t.equal(cronScheduleError('*/0 * * * *'), 'step of range should be a positive number: */0')
  t.equal(cronScheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0')
  t.equal(cronScheduleError('1-2-3 * * * *'), 'too many hyphens: 1-2-3')
})

t.test('ControllerRevisions', async (t) => {
  t.strictSame(createErrors('ControllerRevision', { metadata: { name: 'r', namespace: 'default' }, revision: -1 }), [
    'data: Required value: data is mandatory',
    'revision: Invalid value: -1: must be greater than or equal to 0',
  ])
  const old = { metadata: { name: 'r', namespace: 'default', resourceVersion: '1' }, data: { a: 1 }, revision: 1 }
  t.match(updateErrors('ControllerRevision', old, { ...clone(old), data: { a: 2 } }), [/^data: Invalid value: .*: field is immutable$/])
})
