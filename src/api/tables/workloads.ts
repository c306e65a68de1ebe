// Printers of the workload kinds (apps/v1, batch/v1, autoscaling/v2), column for
// column as kube-apiserver's pkg/printers/internalversion.
import { arr, int, isRecord, num, rec, recs, str, type Json } from '../json.js'
import { formatLabels, formatLabelSelector, LabelSelectorError, selectorFromLabelSelector } from '../labels.js'
import { Quantity, tryParseQuantity } from '../quantity.js'
import { doc } from './descriptions.js'
import { age, ageColumn, column, containerCells, humanDuration, nameColumn, nameOf, since, timeOf, wide, type Printer } from './format.js'

const CONTAINERS = 'Names of each container in the template.'
const IMAGES = 'Images referenced by each container in the template.'

function templateContainers(template: unknown): Json[] {
  return recs(rec(rec(template).spec).containers)
}

const deployments: Printer = {
  columns: [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', doc('DeploymentStatus.updatedReplicas')),
    column('Available', 'string', doc('DeploymentStatus.availableReplicas')),
    ageColumn(),
    wide(column('Containers', 'string', CONTAINERS)),
    wide(column('Images', 'string', IMAGES)),
    wide(column('Selector', 'string', doc('DeploymentSpec.selector'))),
  ],
  print(d, ctx) {
    const spec = rec(d.spec)
    const status = rec(d.status)
    let selector: string
    try {
      selector = selectorFromLabelSelector(spec.selector).toString()
    } catch (e) {
      if (!(e instanceof LabelSelectorError)) throw e
      selector = '<invalid>'
    }
    const [names, images] = containerCells(templateContainers(spec.template))
    return {
      cells: [nameOf(d), `${int(status.readyReplicas)}/${int(spec.replicas)}`, int(status.updatedReplicas), int(status.availableReplicas), age(d, ctx), names, images, selector],
    }
  },
}

const replicasets: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', doc('ReplicaSetSpec.replicas')),
    column('Current', 'integer', doc('ReplicaSetStatus.replicas')),
    column('Ready', 'integer', doc('ReplicaSetStatus.readyReplicas')),
    ageColumn(),
    wide(column('Containers', 'string', CONTAINERS)),
    wide(column('Images', 'string', IMAGES)),
    wide(column('Selector', 'string', doc('ReplicaSetSpec.selector'))),
  ],
  print(rs, ctx) {
    const spec = rec(rs.spec)
    const status = rec(rs.status)
    const [names, images] = containerCells(templateContainers(spec.template))
    return { cells: [nameOf(rs), int(spec.replicas), int(status.replicas), int(status.readyReplicas), age(rs, ctx), names, images, formatLabelSelector(spec.selector)] }
  },
}

const daemonsets: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', doc('DaemonSetStatus.desiredNumberScheduled')),
    column('Current', 'integer', doc('DaemonSetStatus.currentNumberScheduled')),
    column('Ready', 'integer', doc('DaemonSetStatus.numberReady')),
    column('Up-to-date', 'integer', doc('DaemonSetStatus.updatedNumberScheduled')),
    column('Available', 'integer', doc('DaemonSetStatus.numberAvailable')),
    column('Node Selector', 'string', doc('PodSpec.nodeSelector')),
    ageColumn(),
    wide(column('Containers', 'string', CONTAINERS)),
    wide(column('Images', 'string', IMAGES)),
    wide(column('Selector', 'string', doc('DaemonSetSpec.selector'))),
  ],
  print(ds, ctx) {
    const spec = rec(ds.spec)
    const s = rec(ds.status)
    const [names, images] = containerCells(templateContainers(spec.template))
    return {
      cells: [
        nameOf(ds), int(s.desiredNumberScheduled), int(s.currentNumberScheduled), int(s.numberReady), int(s.updatedNumberScheduled), int(s.numberAvailable),
        formatLabels(rec(rec(spec.template).spec).nodeSelector), age(ds, ctx), names, images, formatLabelSelector(spec.selector),
      ],
    }
  },
}

const statefulsets: Printer = {
  columns: [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    ageColumn(),
    wide(column('Containers', 'string', CONTAINERS)),
    wide(column('Images', 'string', IMAGES)),
  ],
  print(sts, ctx) {
    const spec = rec(sts.spec)
    const [names, images] = containerCells(templateContainers(spec.template))
    return { cells: [nameOf(sts), `${int(rec(sts.status).readyReplicas)}/${int(spec.replicas)}`, age(sts, ctx), names, images] }
  },
}

function controllerOf(obj: Json): Json | undefined {
  return recs(rec(obj.metadata).ownerReferences).find((r) => r.controller === true)
}

const controllerrevisions: Printer = {
  columns: [nameColumn(), column('Controller', 'string', 'Controller of the object'), column('Revision', 'string', doc('ControllerRevision.revision')), ageColumn()],
  print(cr, ctx) {
    const ref = controllerOf(cr)
    let controller = '<none>'
    if (ref !== undefined) {
      const apiVersion = str(ref.apiVersion)
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : ''
      const kind = str(ref.kind)
      // formatResourceName: lowercased Kind.group/name, or the bare name without a kind.
      controller = kind === '' && group === '' ? str(ref.name) : `${(group === '' ? kind : `${kind}.${group}`).toLowerCase()}/${str(ref.name)}`
    }
    return { cells: [nameOf(cr), controller, int(cr.revision), age(cr, ctx)] }
  },
}

// ---- batch

function hasJobCondition(status: Json, type: string): boolean {
  const c = recs(status.conditions).find((x) => str(x.type) === type)
  return c !== undefined && str(c.status) === 'True'
}

const jobs: Printer = {
  columns: [
    nameColumn(),
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', doc('JobStatus.succeeded')),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn(),
    wide(column('Containers', 'string', CONTAINERS)),
    wide(column('Images', 'string', IMAGES)),
    wide(column('Selector', 'string', doc('JobSpec.selector'))),
  ],
  print(job, ctx) {
    const spec = rec(job.spec)
    const status = rec(job.status)
    const succeeded = int(status.succeeded)
    let completions: string
    if (spec.completions != null) completions = `${succeeded}/${int(spec.completions)}`
    else completions = int(spec.parallelism) > 1 ? `${succeeded}/1 of ${int(spec.parallelism)}` : `${succeeded}/1`
    const start = timeOf(status.startTime)
    const end = timeOf(status.completionTime)
    const duration = start === undefined ? '' : humanDuration((end ?? ctx.now) - start)
    let state = 'Running'
    if (hasJobCondition(status, 'Complete')) state = 'Complete'
    else if (hasJobCondition(status, 'Failed')) state = 'Failed'
    else if (timeOf(rec(job.metadata).deletionTimestamp) !== undefined) state = 'Terminating'
    else if (hasJobCondition(status, 'Suspended')) state = 'Suspended'
    else if (hasJobCondition(status, 'FailureTarget')) state = 'FailureTarget'
    else if (hasJobCondition(status, 'SuccessCriteriaMet')) state = 'SuccessCriteriaMet'
    const [names, images] = containerCells(templateContainers(spec.template))
    return { cells: [nameOf(job), state, completions, duration, age(job, ctx), names, images, formatLabelSelector(spec.selector)] }
  },
}

const cronjobs: Printer = {
  columns: [
    nameColumn(),
    column('Schedule', 'string', doc('CronJobSpec.schedule')),
    column('Timezone', 'string', doc('CronJobSpec.timeZone')),
    column('Suspend', 'boolean', doc('CronJobSpec.suspend')),
    column('Active', 'integer', doc('CronJobStatus.active')),
    column('Last Schedule', 'string', doc('CronJobStatus.lastScheduleTime')),
    ageColumn(),
    wide(column('Containers', 'string', CONTAINERS)),
    wide(column('Images', 'string', IMAGES)),
    wide(column('Selector', 'string', doc('JobSpec.selector'))),
  ],
  print(cj, ctx) {
    const spec = rec(cj.spec)
    const status = rec(cj.status)
    const jobSpec = rec(rec(spec.jobTemplate).spec)
    const suspend = typeof spec.suspend === 'boolean' ? (spec.suspend ? 'True' : 'False') : '<unset>'
    const last = status.lastScheduleTime != null ? since(status.lastScheduleTime, ctx) : '<none>'
    const [names, images] = containerCells(templateContainers(jobSpec.template))
    return {
      cells: [nameOf(cj), str(spec.schedule), spec.timeZone != null ? str(spec.timeZone) : '<none>', suspend, arr(status.active).length, last, age(cj, ctx), names, images, formatLabelSelector(jobSpec.selector)],
    }
  },
}

// ---- autoscaling

function q(v: unknown): string {
  return (tryParseQuantity(v) ?? Quantity.fromNanos(0n)).toString()
}

function formatHPAMetrics(specs: Json[], statuses: Json[]): string {
  if (specs.length === 0) return '<none>'
  const list = specs.map((spec, i) => {
    const st = statuses[i]
    const type = str(spec.type)
    const src = (o: Json | undefined, k: string): Json | undefined => (o !== undefined && isRecord(o[k]) ? (o[k] as Json) : undefined)
    switch (type) {
      case 'External':
      case 'Object': {
        const key = type === 'External' ? 'external' : 'object'
        const target = rec(rec(spec[key]).target)
        const current = rec(src(st, key)?.current)
        if (target.averageValue != null) {
          const cur = src(st, key) !== undefined && current.averageValue != null ? q(current.averageValue) : '<unknown>'
          return `${cur}/${q(target.averageValue)} (avg)`
        }
        const cur = src(st, key) !== undefined ? q(current.value) : '<unknown>'
        return `${cur}/${q(target.value)}`
      }
      case 'Pods': {
        const cur = src(st, 'pods') !== undefined ? q(rec(src(st, 'pods')?.current).averageValue) : '<unknown>'
        return `${cur}/${q(rec(rec(spec.pods).target).averageValue)}`
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = type === 'Resource' ? 'resource' : 'containerResource'
        const source = rec(spec[key])
        const target = rec(source.target)
        const status = src(st, key)
        if (target.averageValue != null) {
          const cur = status !== undefined ? q(rec(status.current).averageValue) : '<unknown>'
          return `${str(source.name)}: ${cur}/${q(target.averageValue)}`
        }
        const util = num(rec(status?.current).averageUtilization)
        const cur = status !== undefined && util !== undefined ? `${util}%` : '<unknown>'
        const tgt = target.averageUtilization != null ? `${int(target.averageUtilization)}%` : '<auto>'
        return `${str(source.name)}: ${cur}/${tgt}`
      }
      default:
        return '<unknown type>'
    }
  })
  const max = 2
  return list.length > max ? `${list.slice(0, max).join(', ')} + ${list.length - max} more...` : list.join(', ')
}

const horizontalpodautoscalers: Printer = {
  columns: [
    nameColumn(),
    column('Reference', 'string', doc('HorizontalPodAutoscalerSpec.scaleTargetRef')),
    column('Targets', 'string', doc('HorizontalPodAutoscalerSpec.metrics')),
    column('MinPods', 'string', doc('HorizontalPodAutoscalerSpec.minReplicas')),
    column('MaxPods', 'string', doc('HorizontalPodAutoscalerSpec.maxReplicas')),
    column('Replicas', 'string', doc('HorizontalPodAutoscalerStatus.currentReplicas')),
    ageColumn(),
  ],
  print(hpa, ctx) {
    const spec = rec(hpa.spec)
    const status = rec(hpa.status)
    const ref = rec(spec.scaleTargetRef)
    return {
      cells: [
        nameOf(hpa), `${str(ref.kind)}/${str(ref.name)}`, formatHPAMetrics(recs(spec.metrics), recs(status.currentMetrics)),
        spec.minReplicas != null ? String(int(spec.minReplicas)) : '<unset>', int(spec.maxReplicas), int(status.currentReplicas), age(hpa, ctx),
      ],
    }
  },
}

export const WORKLOAD_PRINTERS: Record<string, Printer> = {
  deployments,
  replicasets,
  daemonsets,
  statefulsets,
  controllerrevisions,
  jobs,
  cronjobs,
  horizontalpodautoscalers,
}
