// Validation entry points, as kube-apiserver's generic registry runs them: on create
// the kind's own validation, then (only if that passed) the common ObjectMeta rules
// with path-segment names; on update the common ObjectMeta rules first, then the
// kind's update validation (so a few errors can appear twice, as upstream).
// Objects are expected defaulted (applyDefaults) and carrying the fields the registry
// sets before validating: metadata.namespace from the URL, uid, creationTimestamp,
// generateName-derived names, and a Job's generated selector (jobSelectorDefaults).
import type { ResourceType } from '../resources.js'
import { rec, type Json } from '../json.js'
import type { FieldError } from './errors.js'
import { validateGenericObjectMeta, validateGenericObjectMetaUpdate, validateObjectMeta, validateObjectMetaUpdate } from './meta.js'
import { nameIsDNSSubdomain, nameIsPathSegment } from './names.js'
import { validatePodCreate, validatePodStatusUpdate, validatePodUpdate } from './pod.js'
import {
  validateControllerRevision,
  validateControllerRevisionUpdate,
  validateDaemonSet,
  validateDaemonSetUpdate,
  validateDeployment,
  validateDeploymentUpdate,
  validateReplicaSet,
  validateReplicaSetUpdate,
  validateReplicationController,
  validateReplicationControllerUpdate,
  validateStatefulSet,
  validateStatefulSetUpdate,
  validateWorkloadStatus,
} from './apps.js'
import { validateCronJob, validateCronJobUpdate, validateJob, validateJobUpdate } from './batch.js'
import { validateEndpointSlice, validateEndpointSliceUpdate, validateEndpoints, validateEndpointsUpdate, validateService, validateServiceUpdate } from './service.js'
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateEvent,
  validateLimitRange,
  validateLimitRangeUpdate,
  validateNamespace,
  validateNamespaceStatusUpdate,
  validateNamespaceUpdate,
  validateNode,
  validateNodeUpdate,
  validatePersistentVolume,
  validatePersistentVolumeClaim,
  validatePersistentVolumeClaimUpdate,
  validatePersistentVolumeUpdate,
  validateResourceQuota,
  validateResourceQuotaUpdate,
  validateSecret,
  validateSecretUpdate,
  validateServiceAccount,
  validateServiceAccountUpdate,
} from './core.js'
import {
  validateHorizontalPodAutoscaler,
  validateHorizontalPodAutoscalerUpdate,
  validateIngress,
  validateIngressClass,
  validateIngressClassUpdate,
  validateIngressUpdate,
  validateLease,
  validateLeaseUpdate,
  validatePriorityClass,
  validatePriorityClassUpdate,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
  validateRoleUpdate,
  validateStorageClass,
  validateStorageClassUpdate,
} from './other.js'

interface KindValidation {
  create: (obj: Json) => FieldError[]
  update: (newObj: Json, oldObj: Json) => FieldError[]
}

const KINDS: Record<string, KindValidation> = {
  Pod: { create: validatePodCreate, update: validatePodUpdate },
  Deployment: { create: validateDeployment, update: validateDeploymentUpdate },
  ReplicaSet: { create: validateReplicaSet, update: validateReplicaSetUpdate },
  DaemonSet: { create: validateDaemonSet, update: validateDaemonSetUpdate },
  StatefulSet: { create: validateStatefulSet, update: validateStatefulSetUpdate },
  ControllerRevision: { create: validateControllerRevision, update: validateControllerRevisionUpdate },
  ReplicationController: { create: validateReplicationController, update: validateReplicationControllerUpdate },
  Job: { create: validateJob, update: validateJobUpdate },
  CronJob: { create: validateCronJob, update: validateCronJobUpdate },
  Service: { create: validateService, update: validateServiceUpdate },
  Endpoints: { create: validateEndpoints, update: validateEndpointsUpdate },
  EndpointSlice: { create: validateEndpointSlice, update: validateEndpointSliceUpdate },
  Namespace: { create: validateNamespace, update: validateNamespaceUpdate },
  Node: { create: validateNode, update: validateNodeUpdate },
  ConfigMap: { create: validateConfigMap, update: validateConfigMapUpdate },
  Secret: { create: validateSecret, update: validateSecretUpdate },
  ServiceAccount: { create: validateServiceAccount, update: validateServiceAccountUpdate },
  PersistentVolume: { create: validatePersistentVolume, update: validatePersistentVolumeUpdate },
  PersistentVolumeClaim: { create: validatePersistentVolumeClaim, update: validatePersistentVolumeClaimUpdate },
  ResourceQuota: { create: validateResourceQuota, update: validateResourceQuotaUpdate },
  LimitRange: { create: validateLimitRange, update: validateLimitRangeUpdate },
  // core/v1 Events get only the legacy checks; the generic ObjectMeta rules still apply.
  Event: { create: validateEvent, update: (n) => validateEvent(n) },
  Lease: { create: validateLease, update: validateLeaseUpdate },
  Ingress: { create: validateIngress, update: validateIngressUpdate },
  IngressClass: { create: validateIngressClass, update: validateIngressClassUpdate },
  PriorityClass: { create: validatePriorityClass, update: validatePriorityClassUpdate },
  StorageClass: { create: validateStorageClass, update: validateStorageClassUpdate },
  HorizontalPodAutoscaler: { create: validateHorizontalPodAutoscaler, update: validateHorizontalPodAutoscalerUpdate },
  Role: { create: (o) => validateRole(o, true), update: (n, o) => validateRoleUpdate(n, o, true) },
  ClusterRole: { create: (o) => validateRole(o, false), update: (n, o) => validateRoleUpdate(n, o, false) },
  RoleBinding: { create: (o) => validateRoleBinding(o, true), update: (n, o) => validateRoleBindingUpdate(n, o, true) },
  ClusterRoleBinding: { create: (o) => validateRoleBinding(o, false), update: (n, o) => validateRoleBindingUpdate(n, o, false) },
}

type Resource = Pick<ResourceType, 'kind' | 'namespaced'>

// Kinds without their own rules still get ObjectMeta validation with DNS-subdomain names.
function kindValidation(resource: Resource): KindValidation {
  return (
    KINDS[resource.kind] ?? {
      create: (obj) => validateObjectMeta(obj.metadata, resource.namespaced, nameIsDNSSubdomain),
      update: (n, o) => [...validateObjectMetaUpdate(n.metadata, o.metadata), ...validateObjectMeta(n.metadata, resource.namespaced, nameIsDNSSubdomain)],
    }
  )
}

/** The field errors kube-apiserver reports when creating `obj` (empty when valid). */
export function validateCreate(resource: Resource, obj: Json): FieldError[] {
  const errs = kindValidation(resource).create(obj)
  if (errs.length > 0) return errs
  return validateGenericObjectMeta(obj.metadata, resource.namespaced, nameIsPathSegment)
}

/** The field errors kube-apiserver reports when replacing `oldObj` with `newObj`. */
export function validateUpdate(resource: Resource, oldObj: Json, newObj: Json): FieldError[] {
  return [
    ...validateGenericObjectMeta(newObj.metadata, resource.namespaced, nameIsPathSegment),
    ...validateGenericObjectMetaUpdate(newObj.metadata, oldObj.metadata),
    ...kindValidation(resource).update(newObj, oldObj),
  ]
}

/**
 * The field errors of a write to the status subresource: metadata update rules plus
 * the status checks of the kinds that have them.
 */
export function validateStatusUpdate(resource: Resource, oldObj: Json, newObj: Json): FieldError[] {
  const errs = [
    ...validateGenericObjectMeta(newObj.metadata, resource.namespaced, nameIsPathSegment),
    ...validateGenericObjectMetaUpdate(newObj.metadata, oldObj.metadata),
  ]
  switch (resource.kind) {
    case 'Pod':
      return [...errs, ...validatePodStatusUpdate(newObj, oldObj)]
    case 'Namespace':
      return [...errs, ...validateNamespaceStatusUpdate(newObj, oldObj)]
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicationController':
      return [...errs, ...validateObjectMetaUpdate(newObj.metadata, oldObj.metadata), ...validateWorkloadStatus(resource.kind, rec(newObj).status)]
    default:
      return [...errs, ...validateObjectMetaUpdate(newObj.metadata, oldObj.metadata)]
  }
}

export {
  aggregateMessage,
  errorString,
  fieldErrors,
  formatFieldErrors,
  invalidStatus,
  statusCauses,
  type FieldError,
  type FieldErrorLike,
  type FieldErrorType,
  type InvalidStatus,
  type StatusCause,
} from './errors.js'
