// Defaults for pods and everything that embeds a pod spec, as core/v1's SetDefaults_*
// functions (and the generated defaulters that walk into nested structs), plus the
// admission plugins that fill pods in on every real cluster: ServiceAccount,
// Priority and DefaultTolerationSeconds.
import { arr, ensureRecord, isRecord, rec, recs, setDefault, str, type Json } from '../json.js'
import { canonicalQuantity, tryParseQuantity } from '../quantity.js'
import { defaultPullPolicy } from './image.js'

// Go's zero values: an empty string or 0 reads as unset, like a missing field.
function blank(o: Json, k: string): boolean {
  return o[k] === undefined || o[k] === null || o[k] === ''
}

function zeroOrMissing(o: Json, k: string): boolean {
  return o[k] === undefined || o[k] === null || o[k] === 0
}

/** SetDefaults_ResourceList: quantities rounded up to milli precision, in canonical form. */
export function defaultResourceList(list: unknown): void {
  if (!isRecord(list)) return
  // Unparseable values stay as sent, for validation to report.
  for (const [k, v] of Object.entries(list)) {
    const q = tryParseQuantity(v)
    if (q !== undefined) list[k] = q.roundUp(-3).toString()
  }
}

function defaultHTTPGet(action: unknown): void {
  if (!isRecord(action)) return
  if (blank(action, 'path')) action.path = '/'
  if (blank(action, 'scheme')) action.scheme = 'HTTP'
}

function defaultHandler(handler: unknown): void {
  if (!isRecord(handler)) return
  defaultHTTPGet(handler.httpGet)
  // GRPCAction.service is declared `+default=""`.
  if (isRecord(handler.grpc)) setDefault(handler.grpc, 'service', '')
}

function defaultProbe(probe: unknown): void {
  if (!isRecord(probe)) return
  if (zeroOrMissing(probe, 'timeoutSeconds')) probe.timeoutSeconds = 1
  if (zeroOrMissing(probe, 'periodSeconds')) probe.periodSeconds = 10
  if (zeroOrMissing(probe, 'successThreshold')) probe.successThreshold = 1
  if (zeroOrMissing(probe, 'failureThreshold')) probe.failureThreshold = 3
  defaultHandler(probe)
}

/** SetDefaults_Container and the defaults of the structs a container holds. */
export function defaultContainer(c: Json): void {
  if (blank(c, 'imagePullPolicy')) c.imagePullPolicy = defaultPullPolicy(str(c.image))
  if (blank(c, 'terminationMessagePath')) c.terminationMessagePath = '/dev/termination-log'
  if (blank(c, 'terminationMessagePolicy')) c.terminationMessagePolicy = 'File'
  for (const p of recs(c.ports)) if (blank(p, 'protocol')) p.protocol = 'TCP'
  // ResourceRequirements is a plain struct: it always serializes, as {} when empty.
  const resources = ensureRecord(c, 'resources')
  defaultResourceList(resources.limits)
  defaultResourceList(resources.requests)
  defaultProbe(c.livenessProbe)
  defaultProbe(c.readinessProbe)
  defaultProbe(c.startupProbe)
  const lifecycle = rec(c.lifecycle)
  defaultHandler(lifecycle.postStart)
  defaultHandler(lifecycle.preStop)
  for (const e of recs(c.env)) {
    const fieldRef = rec(e.valueFrom).fieldRef
    if (isRecord(fieldRef) && blank(fieldRef, 'apiVersion')) fieldRef.apiVersion = 'v1'
  }
}

const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi',
  'ephemeral', 'image',
]

// 0644, the mode secret, configMap, downwardAPI and projected volumes default to.
const DEFAULT_MODE = 420

/** SetDefaults_PersistentVolumeClaimSpec (also inside ephemeral volumes and claim templates). */
export function defaultPVCSpec(spec: Json): void {
  setDefault(spec, 'volumeMode', 'Filesystem')
  const resources = rec(spec.resources)
  defaultResourceList(resources.requests)
  defaultResourceList(resources.limits)
}

export function defaultVolume(v: Json): void {
  if (!VOLUME_SOURCES.some((k) => isRecord(v[k]))) v.emptyDir = {}
  for (const k of ['secret', 'configMap', 'downwardAPI', 'projected']) if (isRecord(v[k])) setDefault(v[k] as Json, 'defaultMode', DEFAULT_MODE)
  if (isRecord(v.hostPath)) setDefault(v.hostPath, 'type', '')
  if (isRecord(v.emptyDir) && v.emptyDir.sizeLimit !== undefined) {
    const q = canonicalQuantity(v.emptyDir.sizeLimit)
    if (q !== undefined) v.emptyDir.sizeLimit = q
  }
  if (isRecord(v.projected)) {
    for (const src of recs(v.projected.sources)) {
      if (isRecord(src.serviceAccountToken)) setDefault(src.serviceAccountToken, 'expirationSeconds', 3600)
      for (const item of recs(rec(src.downwardAPI).items)) {
        if (isRecord(item.fieldRef) && blank(item.fieldRef, 'apiVersion')) item.fieldRef.apiVersion = 'v1'
      }
    }
  }
  if (isRecord(v.downwardAPI)) {
    for (const item of recs(v.downwardAPI.items)) {
      if (isRecord(item.fieldRef) && blank(item.fieldRef, 'apiVersion')) item.fieldRef.apiVersion = 'v1'
    }
  }
  if (isRecord(v.iscsi)) setDefault(v.iscsi, 'iscsiInterface', 'default')
  const claimTemplate = rec(rec(v.ephemeral).volumeClaimTemplate)
  if (isRecord(claimTemplate.spec)) defaultPVCSpec(claimTemplate.spec)
}

/** SetDefaults_PodSpec and the defaults of its containers and volumes. */
export function defaultPodSpec(spec: Json): void {
  if (blank(spec, 'dnsPolicy')) spec.dnsPolicy = 'ClusterFirst'
  if (blank(spec, 'restartPolicy')) spec.restartPolicy = 'Always'
  setDefault(spec, 'securityContext', {})
  setDefault(spec, 'terminationGracePeriodSeconds', 30)
  if (blank(spec, 'schedulerName')) spec.schedulerName = 'default-scheduler'
  for (const c of recs(spec.containers)) defaultContainer(c)
  for (const c of recs(spec.initContainers)) defaultContainer(c)
  for (const c of recs(spec.ephemeralContainers)) defaultContainer(c)
  for (const v of recs(spec.volumes)) defaultVolume(v)
  defaultResourceList(spec.overhead)
}

/** A PodTemplateSpec inside a workload: only the pod spec defaults apply. */
export function defaultPodTemplate(template: unknown): void {
  if (!isRecord(template)) return
  defaultPodSpec(ensureRecord(template, 'spec'))
}

// Requests default to limits for the resources that set only a limit.
function requestsFromLimits(c: Json): void {
  const resources = rec(c.resources)
  if (!isRecord(resources.limits)) return
  const requests = ensureRecord(resources, 'requests')
  for (const [k, v] of Object.entries(resources.limits)) if (!(k in requests)) requests[k] = v
}

/** SetDefaults_Pod on top of the pod spec defaults. */
export function defaultPod(pod: Json): void {
  const spec = ensureRecord(pod, 'spec')
  defaultPodSpec(spec)
  for (const c of [...recs(spec.containers), ...recs(spec.initContainers)]) requestsFromLimits(c)
  setDefault(spec, 'enableServiceLinks', true)
  // The v1 conversion fills the plural IP lists from the singular fields (kubelets may write either).
  const status = pod.status
  if (isRecord(status)) {
    if (typeof status.podIP === 'string' && status.podIP !== '' && arr(status.podIPs).length === 0) status.podIPs = [{ ip: status.podIP }]
    if (typeof status.hostIP === 'string' && status.hostIP !== '' && arr(status.hostIPs).length === 0) status.hostIPs = [{ ip: status.hostIP }]
  }
  if (spec.hostNetwork === true) {
    for (const c of [...recs(spec.containers), ...recs(spec.initContainers)]) {
      for (const p of recs(c.ports)) if (p.hostPort === undefined || p.hostPort === null || p.hostPort === 0) p.hostPort = p.containerPort
    }
  }
}

/**
 * What the ServiceAccount and Priority admission plugins set on a new pod: the
 * `default` service account (and its deprecated alias field), priority 0 and the
 * default preemption policy when no priority class is named.
 */
export function applyPodAdmissionDefaults(pod: Json): void {
  const spec = ensureRecord(pod, 'spec')
  if (blank(spec, 'serviceAccountName')) spec.serviceAccountName = str(spec.serviceAccount) === '' ? 'default' : spec.serviceAccount
  if (blank(spec, 'serviceAccount')) spec.serviceAccount = spec.serviceAccountName
  if (blank(spec, 'priorityClassName')) setDefault(spec, 'priority', 0)
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority')
}

const NOT_READY_TAINT = 'node.kubernetes.io/not-ready'
const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable'

/**
 * The DefaultTolerationSeconds admission plugin: pods tolerate the not-ready and
 * unreachable NoExecute taints for 300 s unless they already tolerate them.
 */
export function defaultTolerationSeconds(pod: Json, notReadySeconds = 300, unreachableSeconds = 300): void {
  const spec = ensureRecord(pod, 'spec')
  const tolerations = arr(spec.tolerations).filter(isRecord)
  const tolerates = (taintKey: string): boolean =>
    tolerations.some((t) => (str(t.key) === taintKey || str(t.key) === '') && (str(t.effect) === 'NoExecute' || str(t.effect) === ''))
  const added: Json[] = []
  if (!tolerates(NOT_READY_TAINT)) added.push({ key: NOT_READY_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReadySeconds })
  if (!tolerates(UNREACHABLE_TAINT)) added.push({ key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachableSeconds })
  if (added.length > 0) spec.tolerations = [...arr(spec.tolerations), ...added]
}
