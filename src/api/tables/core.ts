// Printers of the core/v1 kinds, column for column as kube-apiserver's
// pkg/printers/internalversion (the server always prints the wide columns too).
import { arr, bool, int, isRecord, rec, recs, str, strMap, type Json } from '../json.js'
import { formatLabels } from '../labels.js'
import { Quantity, tryParseQuantity } from '../quantity.js'
import { doc } from './descriptions.js'
import { age, ageColumn, column, containerCells, humanDuration, nameColumn, nameOf, since, timeOf, wide, type PrintContext, type Printer, type RowCondition } from './format.js'

// ---- pods

const POD_SUCCEEDED: RowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]
const POD_FAILED: RowCondition[] = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]

function hasCondition(conditions: Json[], type: string): boolean {
  return conditions.some((c) => str(c.type) === type && str(c.status) === 'True')
}

// The latest lastState.terminated.finishedAt, as a restart date.
function later(current: number | undefined, cs: Json): number | undefined {
  const finished = timeOf(rec(rec(cs.lastState).terminated).finishedAt)
  if (finished === undefined) return current
  return current === undefined || finished > current ? finished : current
}

function terminatedReason(t: Json, prefix: string): string {
  if (str(t.reason) !== '') return prefix + str(t.reason)
  return int(t.signal) !== 0 ? `${prefix}Signal:${int(t.signal)}` : `${prefix}ExitCode:${int(t.exitCode)}`
}

/** The pod's READY, STATUS and RESTARTS as kubectl shows them. */
export function podStatusCells(pod: Json, ctx: PrintContext): { ready: string; reason: string; restarts: string } {
  const spec = rec(pod.spec)
  const status = rec(pod.status)
  const conditions = recs(status.conditions)
  const initContainers = recs(spec.initContainers)
  const restartable = new Set(initContainers.filter((c) => str(c.restartPolicy) === 'Always').map((c) => str(c.name)))
  let restarts = 0
  let restartableRestarts = 0
  const total = recs(spec.containers).length + restartable.size
  let ready = 0
  let lastRestart: number | undefined
  let lastRestartableRestart: number | undefined
  const phase = str(status.phase)
  let reason = str(status.reason) !== '' ? str(status.reason) : phase
  if (conditions.some((c) => str(c.type) === 'PodScheduled' && str(c.reason) === 'SchedulingGated')) reason = 'SchedulingGated'

  let initializing = false
  const initStatuses = recs(status.initContainerStatuses)
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i]
    const state = rec(cs.state)
    restarts += int(cs.restartCount)
    lastRestart = later(lastRestart, cs)
    const isRestartable = restartable.has(str(cs.name))
    if (isRestartable) {
      restartableRestarts += int(cs.restartCount)
      lastRestartableRestart = later(lastRestartableRestart, cs)
    }
    const terminated = isRecord(state.terminated) ? state.terminated : undefined
    const waiting = isRecord(state.waiting) ? state.waiting : undefined
    if (terminated !== undefined && int(terminated.exitCode) === 0) continue
    if (isRestartable && cs.started === true) {
      if (cs.ready === true) ready++
      continue
    }
    if (terminated !== undefined) reason = terminatedReason(terminated, 'Init:')
    else if (waiting !== undefined && str(waiting.reason) !== '' && str(waiting.reason) !== 'PodInitializing') reason = 'Init:' + str(waiting.reason)
    else reason = `Init:${i}/${initContainers.length}`
    initializing = true
    break
  }

  if (!initializing || hasCondition(conditions, 'Initialized')) {
    restarts = restartableRestarts
    lastRestart = lastRestartableRestart
    let hasRunning = false
    const statuses = recs(status.containerStatuses)
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i]
      const state = rec(cs.state)
      restarts += int(cs.restartCount)
      lastRestart = later(lastRestart, cs)
      const waiting = rec(state.waiting)
      const terminated = isRecord(state.terminated) ? state.terminated : undefined
      if (isRecord(state.waiting) && str(waiting.reason) !== '') reason = str(waiting.reason)
      else if (terminated !== undefined) reason = terminatedReason(terminated, '')
      else if (cs.ready === true && isRecord(state.running)) {
        hasRunning = true
        ready++
      }
    }
    // A pod whose other containers still run is not "Completed" yet.
    if (reason === 'Completed' && hasRunning) reason = hasCondition(conditions, 'Ready') ? 'Running' : 'NotReady'
  }

  const deleting = timeOf(rec(pod.metadata).deletionTimestamp) !== undefined
  if (deleting && str(status.reason) === 'NodeLost') reason = 'Unknown'
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating'

  const restartText = restarts !== 0 && lastRestart !== undefined ? `${restarts} (${humanDuration(ctx.now - lastRestart)} ago)` : String(restarts)
  return { ready: `${ready}/${total}`, reason, restarts: restartText }
}

const pods: Printer = {
  columns: [
    nameColumn(),
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn(),
    wide(column('IP', 'string', doc('PodStatus.podIP'))),
    wide(column('Node', 'string', doc('PodSpec.nodeName'))),
    wide(column('Nominated Node', 'string', doc('PodStatus.nominatedNodeName'))),
    wide(column('Readiness Gates', 'string', doc('PodSpec.readinessGates'))),
  ],
  print(pod, ctx) {
    const spec = rec(pod.spec)
    const status = rec(pod.status)
    const { ready, reason, restarts } = podStatusCells(pod, ctx)
    const podIP = str(recs(status.podIPs)[0]?.ip) || str(status.podIP) || '<none>'
    const gates = recs(spec.readinessGates)
    let readinessGates = '<none>'
    if (gates.length > 0) {
      const conditions = recs(status.conditions)
      const trueCount = gates.filter((g) => str(conditions.find((c) => str(c.type) === str(g.conditionType))?.status) === 'True').length
      readinessGates = `${trueCount}/${gates.length}`
    }
    const phase = str(status.phase)
    return {
      cells: [nameOf(pod), ready, reason, restarts, age(pod, ctx), podIP, str(spec.nodeName) || '<none>', str(status.nominatedNodeName) || '<none>', readinessGates],
      ...(phase === 'Succeeded' ? { conditions: POD_SUCCEEDED } : phase === 'Failed' ? { conditions: POD_FAILED } : {}),
    }
  },
}

// ---- nodes

function nodeRoles(labels: Record<string, string>): string[] {
  const roles = new Set<string>()
  for (const [k, v] of Object.entries(labels)) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length)
      if (role !== '') roles.add(role)
    } else if (k === 'kubernetes.io/role' && v !== '') {
      roles.add(v)
    }
  }
  return [...roles].sort()
}

function nodeAddress(node: Json, type: string): string {
  return str(recs(rec(node.status).addresses).find((a) => str(a.type) === type)?.address) || '<none>'
}

const nodes: Printer = {
  columns: [
    nameColumn(),
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn(),
    column('Version', 'string', doc('NodeSystemInfo.kubeletVersion')),
    wide(column('Internal-IP', 'string', doc('NodeStatus.addresses'))),
    wide(column('External-IP', 'string', doc('NodeStatus.addresses'))),
    wide(column('OS-Image', 'string', doc('NodeSystemInfo.osImage'))),
    wide(column('Kernel-Version', 'string', doc('NodeSystemInfo.kernelVersion'))),
    wide(column('Container-Runtime', 'string', doc('NodeSystemInfo.containerRuntimeVersion'))),
  ],
  print(node, ctx) {
    const status = rec(node.status)
    const readyCond = recs(status.conditions).filter((c) => str(c.type) === 'Ready').pop()
    const states: string[] = [readyCond === undefined ? 'Unknown' : str(readyCond.status) === 'True' ? 'Ready' : 'NotReady']
    if (bool(rec(node.spec).unschedulable)) states.push('SchedulingDisabled')
    const roles = nodeRoles(strMap(rec(node.metadata).labels)).join(',') || '<none>'
    const info = rec(status.nodeInfo)
    return {
      cells: [
        nameOf(node), states.join(','), roles, age(node, ctx), str(info.kubeletVersion),
        nodeAddress(node, 'InternalIP'), nodeAddress(node, 'ExternalIP'),
        str(info.osImage) || '<unknown>', str(info.kernelVersion) || '<unknown>', str(info.containerRuntimeVersion) || '<unknown>',
      ],
    }
  },
}

const namespaces: Printer = {
  columns: [nameColumn(), column('Status', 'string', 'The status of the namespace'), ageColumn()],
  print: (ns, ctx) => ({ cells: [nameOf(ns), str(rec(ns.status).phase), age(ns, ctx)] }),
}

// ---- services and endpoints

function loadBalancerIPs(status: unknown): string[] {
  const out: string[] = []
  for (const ing of recs(rec(status).ingress)) {
    const v = str(ing.ip) || str(ing.hostname)
    if (v !== '' && !out.includes(v)) out.push(v)
  }
  return out
}

function serviceExternalIP(svc: Json): string {
  const spec = rec(svc.spec)
  const externalIPs = arr(spec.externalIPs).map(str)
  switch (str(spec.type)) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>'
    case 'LoadBalancer': {
      const lb = loadBalancerIPs(rec(rec(svc.status).loadBalancer))
      if (externalIPs.length > 0) return [...lb, ...externalIPs].join(',')
      return lb.length > 0 ? lb.join(',') : '<pending>'
    }
    case 'ExternalName':
      return str(spec.externalName)
  }
  return '<unknown>'
}

function servicePorts(ports: Json[]): string {
  return ports.map((p) => (int(p.nodePort) > 0 ? `${int(p.port)}:${int(p.nodePort)}/${str(p.protocol)}` : `${int(p.port)}/${str(p.protocol)}`)).join(',')
}

const services: Printer = {
  columns: [
    nameColumn(),
    column('Type', 'string', doc('ServiceSpec.type')),
    column('Cluster-IP', 'string', doc('ServiceSpec.clusterIP')),
    column('External-IP', 'string', doc('ServiceSpec.externalIPs')),
    column('Port(s)', 'string', doc('ServiceSpec.ports')),
    ageColumn(),
    wide(column('Selector', 'string', doc('ServiceSpec.selector'))),
  ],
  print(svc, ctx) {
    const spec = rec(svc.spec)
    const clusterIP = str(arr(spec.clusterIPs)[0]) || str(spec.clusterIP) || '<none>'
    const ports = servicePorts(recs(spec.ports)) || '<none>'
    return { cells: [nameOf(svc), str(spec.type), clusterIP, serviceExternalIP(svc), ports, age(svc, ctx), formatLabels(spec.selector)] }
  },
}

function formatEndpoints(ep: Json): string {
  const subsets = recs(ep.subsets)
  if (subsets.length === 0) return '<none>'
  const list: string[] = []
  let count = 0
  const max = 3
  for (const ss of subsets) {
    const addresses = recs(ss.addresses).map((a) => str(a.ip))
    const ports = recs(ss.ports)
    if (ports.length === 0) {
      count += addresses.length
      for (const ip of addresses) if (list.length < max) list.push(ip)
      continue
    }
    for (const port of ports) {
      count += addresses.length
      for (const ip of addresses) if (list.length < max) list.push(ip.includes(':') ? `[${ip}]:${int(port.port)}` : `${ip}:${int(port.port)}`)
    }
  }
  return count > max ? `${list.join(',')} + ${count - max} more...` : list.join(',')
}

const endpoints: Printer = {
  columns: [nameColumn(), column('Endpoints', 'string', doc('Endpoints.subsets')), ageColumn()],
  print: (ep, ctx) => ({ cells: [nameOf(ep), formatEndpoints(ep), age(ep, ctx)] }),
}

// ---- config

const configmaps: Printer = {
  columns: [nameColumn(), column('Data', 'string', doc('ConfigMap.data')), ageColumn()],
  print: (cm, ctx) => ({ cells: [nameOf(cm), Object.keys(rec(cm.data)).length + Object.keys(rec(cm.binaryData)).length, age(cm, ctx)] }),
}

const secrets: Printer = {
  columns: [nameColumn(), column('Type', 'string', doc('Secret.type')), column('Data', 'string', doc('Secret.data')), ageColumn()],
  print: (s, ctx) => ({ cells: [nameOf(s), str(s.type), Object.keys(rec(s.data)).length, age(s, ctx)] }),
}

const serviceaccounts: Printer = {
  columns: [nameColumn(), column('Secrets', 'string', doc('ServiceAccount.secrets')), ageColumn()],
  print: (sa, ctx) => ({ cells: [nameOf(sa), arr(sa.secrets).length, age(sa, ctx)] }),
}

// ---- events

function formatEventSource(ev: Json): string {
  const source = rec(ev.source)
  const component = str(source.component) || str(ev.reportingComponent)
  const host = str(source.host) || str(ev.reportingInstance)
  return host === '' ? component : `${component}, ${host}`
}

const events: Printer = {
  columns: [
    column('Last Seen', 'string', doc('Event.lastTimestamp')),
    column('Type', 'string', doc('Event.type')),
    column('Reason', 'string', doc('Event.reason')),
    column('Object', 'string', doc('Event.involvedObject')),
    wide(column('Subobject', 'string', doc('ObjectReference.fieldPath'))),
    wide(column('Source', 'string', doc('Event.source'))),
    column('Message', 'string', doc('Event.message')),
    wide(column('First Seen', 'string', doc('Event.firstTimestamp'))),
    wide(column('Count', 'string', doc('Event.count'))),
    wide(column('Name', 'string', doc('ObjectMeta.name'), { format: 'name' })),
  ],
  print(ev, ctx) {
    const firstSeen = timeOf(ev.firstTimestamp) !== undefined ? since(ev.firstTimestamp, ctx) : since(ev.eventTime, ctx)
    let lastSeen = timeOf(ev.lastTimestamp) !== undefined ? since(ev.lastTimestamp, ctx) : firstSeen
    let count = int(ev.count)
    if (isRecord(ev.series)) {
      lastSeen = since(ev.series.lastObservedTime, ctx)
      count = int(ev.series.count)
    } else if (count === 0) {
      count = 1
    }
    const involved = rec(ev.involvedObject)
    const kind = str(involved.kind).toLowerCase()
    const target = str(involved.name) !== '' ? `${kind}/${str(involved.name)}` : kind
    return {
      cells: [lastSeen, str(ev.type), str(ev.reason), target, str(involved.fieldPath), formatEventSource(ev), str(ev.message).trim(), firstSeen, count, nameOf(ev)],
    }
  },
}

// ---- storage

function accessModes(modes: unknown): string {
  const set = new Set(arr(modes).map(str))
  const out: string[] = []
  if (set.has('ReadWriteOnce')) out.push('RWO')
  if (set.has('ReadOnlyMany')) out.push('ROX')
  if (set.has('ReadWriteMany')) out.push('RWX')
  if (set.has('ReadWriteOncePod')) out.push('RWOP')
  return out.join(',')
}

const BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class'

function quantityText(v: unknown): string {
  return (tryParseQuantity(v) ?? Quantity.fromNanos(0n)).toString()
}

const persistentvolumes: Printer = {
  columns: [
    nameColumn(),
    column('Capacity', 'string', doc('PersistentVolumeSpec.capacity')),
    column('Access Modes', 'string', doc('PersistentVolumeSpec.accessModes')),
    column('Reclaim Policy', 'string', doc('PersistentVolumeSpec.persistentVolumeReclaimPolicy')),
    column('Status', 'string', doc('PersistentVolumeStatus.phase')),
    column('Claim', 'string', doc('PersistentVolumeSpec.claimRef')),
    column('StorageClass', 'string', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    column('Reason', 'string', doc('PersistentVolumeStatus.reason')),
    ageColumn(),
    wide(column('VolumeMode', 'string', doc('PersistentVolumeSpec.volumeMode'))),
  ],
  print(pv, ctx) {
    const spec = rec(pv.spec)
    const status = rec(pv.status)
    const claimRef = isRecord(spec.claimRef) ? `${str(spec.claimRef.namespace)}/${str(spec.claimRef.name)}` : ''
    const annotations = rec(rec(pv.metadata).annotations)
    const cls = BETA_STORAGE_CLASS in annotations ? str(annotations[BETA_STORAGE_CLASS]) : str(spec.storageClassName)
    const phase = timeOf(rec(pv.metadata).deletionTimestamp) !== undefined ? 'Terminating' : str(status.phase)
    return {
      cells: [
        nameOf(pv), quantityText(rec(spec.capacity).storage), accessModes(spec.accessModes), str(spec.persistentVolumeReclaimPolicy), phase, claimRef, cls,
        spec.volumeAttributesClassName != null ? str(spec.volumeAttributesClassName) : '<unset>', str(status.reason), age(pv, ctx),
        spec.volumeMode != null ? str(spec.volumeMode) : '<unset>',
      ],
    }
  },
}

const persistentvolumeclaims: Printer = {
  columns: [
    nameColumn(),
    column('Status', 'string', doc('PersistentVolumeClaimStatus.phase')),
    column('Volume', 'string', doc('PersistentVolumeClaimSpec.volumeName')),
    column('Capacity', 'string', doc('PersistentVolumeClaimStatus.capacity')),
    column('Access Modes', 'string', doc('PersistentVolumeClaimStatus.accessModes')),
    column('StorageClass', 'string', 'StorageClass of the pvc'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageColumn(),
    wide(column('VolumeMode', 'string', doc('PersistentVolumeClaimSpec.volumeMode'))),
  ],
  print(pvc, ctx) {
    const spec = rec(pvc.spec)
    const status = rec(pvc.status)
    const bound = str(spec.volumeName) !== ''
    const annotations = rec(rec(pvc.metadata).annotations)
    const cls = BETA_STORAGE_CLASS in annotations ? str(annotations[BETA_STORAGE_CLASS]) : str(spec.storageClassName)
    const phase = timeOf(rec(pvc.metadata).deletionTimestamp) !== undefined ? 'Terminating' : str(status.phase)
    return {
      cells: [
        nameOf(pvc), phase, str(spec.volumeName), bound ? quantityText(rec(status.capacity).storage) : '', bound ? accessModes(status.accessModes) : '', cls,
        spec.volumeAttributesClassName != null ? str(spec.volumeAttributesClassName) : '<unset>', age(pvc, ctx),
        spec.volumeMode != null ? str(spec.volumeMode) : '<unset>',
      ],
    }
  },
}

// ---- policy

const resourcequotas: Printer = {
  columns: [
    nameColumn(),
    ageColumn(),
    column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
  ],
  print(rq, ctx) {
    const status = rec(rq.status)
    const hard = rec(status.hard)
    const used = rec(status.used)
    const requests: string[] = []
    const limits: string[] = []
    for (const name of Object.keys(hard).sort()) {
      const text = `${name}: ${quantityText(used[name])}/${quantityText(hard[name])}`
      const pieces = name.split('.')
      if (pieces.length > 1 && pieces[0] === 'limits') limits.push(text)
      else requests.push(text)
    }
    return { cells: [nameOf(rq), age(rq, ctx), requests.join(', '), limits.join(', ')] }
  },
}

const replicationcontrollers: Printer = {
  columns: [
    nameColumn(),
    column('Desired', 'integer', doc('ReplicationControllerSpec.replicas')),
    column('Current', 'integer', doc('ReplicationControllerStatus.replicas')),
    column('Ready', 'integer', doc('ReplicationControllerStatus.readyReplicas')),
    ageColumn(),
    wide(column('Containers', 'string', 'Names of each container in the template.')),
    wide(column('Images', 'string', 'Images referenced by each container in the template.')),
    wide(column('Selector', 'string', doc('ReplicationControllerSpec.selector'))),
  ],
  print(rc, ctx) {
    const spec = rec(rc.spec)
    const status = rec(rc.status)
    const [names, images] = containerCells(recs(rec(rec(spec.template).spec).containers))
    return { cells: [nameOf(rc), int(spec.replicas), int(status.replicas), int(status.readyReplicas), age(rc, ctx), names, images, formatLabels(spec.selector)] }
  },
}

export const CORE_PRINTERS: Record<string, Printer> = {
  pods,
  nodes,
  namespaces,
  services,
  endpoints,
  configmaps,
  secrets,
  serviceaccounts,
  events,
  persistentvolumes,
  persistentvolumeclaims,
  resourcequotas,
  replicationcontrollers,
}

