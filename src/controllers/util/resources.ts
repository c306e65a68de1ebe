// The resource types the controllers read and write, looked up once from the served
// resource table (a missing one is a programming error caught at import).
import { findResource, type ResourceType } from '../../api/resources.js'

function served(group: string, version: string, plural: string): ResourceType {
  const rt = findResource(group, version, plural)
  if (rt === undefined) throw new Error(`resource ${group}/${version}/${plural} is not served`)
  return rt
}

export const NAMESPACES = served('', 'v1', 'namespaces')
export const PODS = served('', 'v1', 'pods')
export const NODES = served('', 'v1', 'nodes')
export const SERVICES = served('', 'v1', 'services')
export const ENDPOINTS = served('', 'v1', 'endpoints')
export const CONFIGMAPS = served('', 'v1', 'configmaps')
export const SECRETS = served('', 'v1', 'secrets')
export const SERVICE_ACCOUNTS = served('', 'v1', 'serviceaccounts')
export const EVENTS = served('', 'v1', 'events')
export const PERSISTENT_VOLUMES = served('', 'v1', 'persistentvolumes')
export const PERSISTENT_VOLUME_CLAIMS = served('', 'v1', 'persistentvolumeclaims')
export const RESOURCE_QUOTAS = served('', 'v1', 'resourcequotas')
export const REPLICATION_CONTROLLERS = served('', 'v1', 'replicationcontrollers')
export const DEPLOYMENTS = served('apps', 'v1', 'deployments')
export const REPLICASETS = served('apps', 'v1', 'replicasets')
export const DAEMONSETS = served('apps', 'v1', 'daemonsets')
export const STATEFULSETS = served('apps', 'v1', 'statefulsets')
export const CONTROLLER_REVISIONS = served('apps', 'v1', 'controllerrevisions')
export const JOBS = served('batch', 'v1', 'jobs')
export const CRONJOBS = served('batch', 'v1', 'cronjobs')
export const HORIZONTAL_POD_AUTOSCALERS = served('autoscaling', 'v2', 'horizontalpodautoscalers')
export const LEASES = served('coordination.k8s.io', 'v1', 'leases')
export const ENDPOINT_SLICES = served('discovery.k8s.io', 'v1', 'endpointslices')
export const STORAGE_CLASSES = served('storage.k8s.io', 'v1', 'storageclasses')
