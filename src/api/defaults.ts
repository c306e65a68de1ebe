// Kubernetes' defaulting for the served kinds: what kube-apiserver fills in when it
// decodes an object (the SetDefaults_* functions of each API group), optionally with
// what the registry does on create and the admission plugins every cluster runs.
// Callers pass a fresh copy; it is changed in place and returned.
import type { ResourceType } from './resources.js'
import { isRecord, type Json } from './json.js'
import { applyPodAdmissionDefaults, defaultPod } from './defaults/pod.js'
import {
  defaultCronJob,
  defaultDaemonSet,
  defaultDeployment,
  defaultHorizontalPodAutoscaler,
  defaultJob,
  defaultReplicaSet,
  defaultReplicationController,
  defaultStatefulSet,
} from './defaults/workloads.js'
import {
  defaultEndpoints,
  defaultEndpointSlice,
  defaultIngressClass,
  defaultLimitRange,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultPriorityClass,
  defaultResourceQuota,
  defaultRoleBinding,
  defaultSecret,
  defaultService,
  defaultStorageClass,
} from './defaults/core.js'

export { applyPodAdmissionDefaults, defaultTolerationSeconds, defaultPodSpec, defaultContainer } from './defaults/pod.js'
export { jobSelectorDefaults } from './defaults/workloads.js'
export { defaultPullPolicy, parseImage } from './defaults/image.js'

export interface DefaultsOptions {
  /**
   * Also apply what happens only on create (default true): a Namespace's `kubernetes`
   * finalizer, a Service's clusterIPs/ipFamilies/ipFamilyPolicy.
   */
  create?: boolean
  /**
   * Also apply the ServiceAccount and Priority admission plugins to Pods (default
   * true): serviceAccountName/serviceAccount `default`, priority 0, preemptionPolicy.
   * DefaultTolerationSeconds is separate: defaultTolerationSeconds().
   */
  admission?: boolean
}

type Defaulter = (obj: Json, opts: Required<DefaultsOptions>) => void

const DEFAULTERS: Record<string, Defaulter> = {
  Pod: (obj, opts) => {
    defaultPod(obj)
    if (opts.admission && opts.create) applyPodAdmissionDefaults(obj)
  },
  Deployment: defaultDeployment,
  ReplicaSet: defaultReplicaSet,
  ReplicationController: defaultReplicationController,
  StatefulSet: defaultStatefulSet,
  DaemonSet: defaultDaemonSet,
  Job: defaultJob,
  CronJob: defaultCronJob,
  HorizontalPodAutoscaler: defaultHorizontalPodAutoscaler,
  Service: (obj, opts) => defaultService(obj, opts.create),
  Namespace: (obj, opts) => defaultNamespace(obj, opts.create),
  Secret: defaultSecret,
  PersistentVolume: defaultPersistentVolume,
  PersistentVolumeClaim: defaultPersistentVolumeClaim,
  Node: defaultNode,
  Endpoints: defaultEndpoints,
  EndpointSlice: defaultEndpointSlice,
  LimitRange: defaultLimitRange,
  ResourceQuota: defaultResourceQuota,
  IngressClass: defaultIngressClass,
  StorageClass: defaultStorageClass,
  PriorityClass: defaultPriorityClass,
  RoleBinding: defaultRoleBinding,
  ClusterRoleBinding: defaultRoleBinding,
}

/** Applies the defaults of `resource`'s kind to `obj` in place; returns `obj`. */
export function applyDefaults<T extends Json>(resource: Pick<ResourceType, 'kind'>, obj: T, options: DefaultsOptions = {}): T {
  if (!isRecord(obj)) return obj
  const opts: Required<DefaultsOptions> = { create: options.create ?? true, admission: options.admission ?? true }
  DEFAULTERS[resource.kind]?.(obj, opts)
  return obj
}
