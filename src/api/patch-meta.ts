// How each served kind's fields merge: the patch metadata Kubernetes declares on its Go
// types (`patchStrategy`/`patchMergeKey` struct tags for strategic merge patch; the
// `+listType`, `+listMapKey`, `+mapType`, `+structType` markers server-side apply reads
// from OpenAPI as x-kubernetes-list-type, -list-map-keys and -map-type). Pure data and a
// small schema tree over it, shared by the patch code and the OpenAPI generator.
//
// The table lists, per OpenAPI definition (short name: `core.v1.PodSpec` stands for
// `io.k8s.api.core.v1.PodSpec`), only the fields that need it: fields with metadata,
// string-keyed maps (so apply can tell a map from a struct), object fields leading to
// such fields, and fields Go's JSON encoding emits even when unset. A field not listed
// is a scalar, an atomic list or a struct with nothing special inside: the walkers
// deduce which from the value. Each field is described by a small spec string:
//
//   type   `core.v1.PodSpec` a struct; `struct` a struct of unlisted fields;
//          `[]T` a list of T (`[]` when the elements need no description);
//          `{}` a string-keyed map of scalars (`{}T` of T); `-` a scalar
//   patch=merge|replace|retainKeys|merge,retainKeys   the patchStrategy tag
//   key=name                       the patchMergeKey tag
//   list=atomic|set|map:k1,k2      +listType and its +listMapKey fields
//   default=protocol:"TCP"         the +default of a list-map key field (JSON)
//   mapType=atomic|granular        +mapType / +structType on the field
//   emit                           a struct Go's encoder always writes (`{}` when unset)
//   null                           a list, map or pointer without omitempty: Go's
//                                  encoder writes null when unset
//
// Extracted from k8s.io/api and k8s.io/apimachinery v0.32 (Kubernetes 1.32).

import { RESOURCES, apiVersionOf, type ResourceType } from './resources.js'

export type ListType = 'atomic' | 'set' | 'map'
export type MapType = 'atomic' | 'granular'

/** A field's patch metadata, as the OpenAPI x-kubernetes-* extensions carry it. */
export interface FieldPatchMeta {
  /** The Go `patchStrategy` tag: `merge`, `replace`, `retainKeys` or `merge,retainKeys`. */
  readonly patchStrategy?: string
  readonly patchMergeKey?: string
  readonly listType?: ListType
  readonly listMapKeys?: readonly string[]
  readonly mapType?: MapType
  /** Derived from patchStrategy: the map (or each list item) takes a $retainKeys directive. */
  readonly retainKeys?: true
}

export type SchemaNode = StructNode | MapNode | ListNode | ScalarNode | UntypedNode

/** A Go struct: named fields, merged field by field unless atomic. */
export interface StructNode {
  readonly kind: 'struct'
  /** OpenAPI definition name, e.g. `io.k8s.api.core.v1.PodSpec`; undefined for an undescribed struct. */
  readonly definition: string | undefined
  readonly atomic: boolean
  field(name: string): FieldSchema | undefined
  fieldNames(): readonly string[]
}

export interface FieldSchema {
  readonly name: string
  readonly node: SchemaNode
  readonly meta: FieldPatchMeta
  /** What Go's JSON encoding writes when the field is unset: nothing, `{}` (a struct) or null. */
  readonly unset: 'omitted' | 'empty' | 'null'
}

/** A string-keyed map (labels, resources.limits, data, ...). */
export interface MapNode {
  readonly kind: 'map'
  readonly atomic: boolean
  readonly elem: SchemaNode
}

/** A list as server-side apply sees it: atomic, a set of scalars, or a map keyed by fields. */
export interface ListNode {
  readonly kind: 'list'
  readonly relationship: 'atomic' | 'associative'
  /** Key fields of an associative list of objects; empty for a set of scalars. */
  readonly keys: readonly string[]
  /** Defaults of key fields an element may omit (`protocol: "TCP"` on container ports). */
  readonly keyDefaults: Readonly<Record<string, unknown>>
  readonly elem: SchemaNode
}

export interface ScalarNode {
  readonly kind: 'scalar'
}

/** Nothing known: an object is an undescribed struct, a list is atomic, anything else a scalar. */
export interface UntypedNode {
  readonly kind: 'untyped'
}

// Definition → field → spec (see the header for the spec syntax).
const DEFINITIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'meta.v1.LabelSelector': {
    matchLabels: '{}',
    matchExpressions: '[]meta.v1.LabelSelectorRequirement list=atomic',
  },
  'meta.v1.LabelSelectorRequirement': {
    values: '[] list=atomic',
  },
  'meta.v1.ObjectMeta': {
    labels: '{}',
    annotations: '{}',
    ownerReferences: '[]meta.v1.OwnerReference patch=merge key=uid list=map:uid',
    finalizers: '[] patch=merge list=set',
    managedFields: '[] list=atomic',
  },
  'core.v1.Affinity': {
    nodeAffinity: 'core.v1.NodeAffinity',
    podAffinity: 'core.v1.PodAffinity',
    podAntiAffinity: 'core.v1.PodAntiAffinity',
  },
  'core.v1.CSIPersistentVolumeSource': {
    volumeAttributes: '{}',
    controllerPublishSecretRef: 'core.v1.SecretReference',
    nodeStageSecretRef: 'core.v1.SecretReference',
    nodePublishSecretRef: 'core.v1.SecretReference',
    controllerExpandSecretRef: 'core.v1.SecretReference',
    nodeExpandSecretRef: 'core.v1.SecretReference',
  },
  'core.v1.CSIVolumeSource': {
    volumeAttributes: '{}',
    nodePublishSecretRef: 'core.v1.LocalObjectReference',
  },
  'core.v1.Capabilities': {
    add: '[] list=atomic',
    drop: '[] list=atomic',
  },
  'core.v1.CephFSPersistentVolumeSource': {
    monitors: '[] list=atomic null',
    secretRef: 'core.v1.SecretReference',
  },
  'core.v1.CephFSVolumeSource': {
    monitors: '[] list=atomic null',
    secretRef: 'core.v1.LocalObjectReference',
  },
  'core.v1.CinderPersistentVolumeSource': {
    secretRef: 'core.v1.SecretReference',
  },
  'core.v1.CinderVolumeSource': {
    secretRef: 'core.v1.LocalObjectReference',
  },
  'core.v1.ClusterTrustBundleProjection': {
    labelSelector: 'meta.v1.LabelSelector',
  },
  'core.v1.ConfigMap': {
    metadata: 'meta.v1.ObjectMeta emit',
    data: '{}',
    binaryData: '{}',
  },
  'core.v1.ConfigMapProjection': {
    items: '[] list=atomic',
  },
  'core.v1.ConfigMapVolumeSource': {
    items: '[] list=atomic',
  },
  'core.v1.Container': {
    command: '[] list=atomic',
    args: '[] list=atomic',
    ports: '[] patch=merge key=containerPort list=map:containerPort,protocol default=protocol:"TCP"',
    envFrom: '[] list=atomic',
    env: '[]core.v1.EnvVar patch=merge key=name list=map:name',
    resources: 'core.v1.ResourceRequirements emit',
    resizePolicy: '[] list=atomic',
    volumeMounts: '[] patch=merge key=mountPath list=map:mountPath',
    volumeDevices: '[] patch=merge key=devicePath list=map:devicePath',
    livenessProbe: 'core.v1.Probe',
    readinessProbe: 'core.v1.Probe',
    startupProbe: 'core.v1.Probe',
    lifecycle: 'core.v1.Lifecycle',
    securityContext: 'core.v1.SecurityContext',
  },
  'core.v1.ContainerImage': {
    names: '[] list=atomic null',
  },
  'core.v1.ContainerStatus': {
    state: 'struct emit',
    lastState: 'struct emit',
    allocatedResources: '{}',
    resources: 'core.v1.ResourceRequirements',
    volumeMounts: '[] patch=merge key=mountPath list=map:mountPath',
    user: 'core.v1.ContainerUser',
    allocatedResourcesStatus: '[]core.v1.ResourceStatus patch=merge key=name list=map:name',
  },
  'core.v1.ContainerUser': {
    linux: 'core.v1.LinuxContainerUser',
  },
  'core.v1.DownwardAPIProjection': {
    items: '[]core.v1.DownwardAPIVolumeFile list=atomic',
  },
  'core.v1.DownwardAPIVolumeFile': {
    fieldRef: 'core.v1.ObjectFieldSelector',
    resourceFieldRef: 'core.v1.ResourceFieldSelector',
  },
  'core.v1.DownwardAPIVolumeSource': {
    items: '[]core.v1.DownwardAPIVolumeFile list=atomic',
  },
  'core.v1.EndpointAddress': {
    targetRef: 'core.v1.ObjectReference',
  },
  'core.v1.EndpointSubset': {
    addresses: '[]core.v1.EndpointAddress list=atomic',
    notReadyAddresses: '[]core.v1.EndpointAddress list=atomic',
    ports: '[]core.v1.EndpointPort list=atomic',
  },
  'core.v1.Endpoints': {
    metadata: 'meta.v1.ObjectMeta emit',
    subsets: '[]core.v1.EndpointSubset list=atomic',
  },
  'core.v1.EnvVar': {
    valueFrom: 'core.v1.EnvVarSource',
  },
  'core.v1.EnvVarSource': {
    fieldRef: 'core.v1.ObjectFieldSelector',
    resourceFieldRef: 'core.v1.ResourceFieldSelector',
    configMapKeyRef: 'core.v1.ConfigMapKeySelector',
    secretKeyRef: 'core.v1.SecretKeySelector',
  },
  'core.v1.EphemeralContainer': {
    command: '[] list=atomic',
    args: '[] list=atomic',
    ports: '[] patch=merge key=containerPort list=map:containerPort,protocol default=protocol:"TCP"',
    envFrom: '[] list=atomic',
    env: '[]core.v1.EnvVar patch=merge key=name list=map:name',
    resources: 'core.v1.ResourceRequirements emit',
    resizePolicy: '[] list=atomic',
    volumeMounts: '[] patch=merge key=mountPath list=map:mountPath',
    volumeDevices: '[] patch=merge key=devicePath list=map:devicePath',
    livenessProbe: 'core.v1.Probe',
    readinessProbe: 'core.v1.Probe',
    startupProbe: 'core.v1.Probe',
    lifecycle: 'core.v1.Lifecycle',
    securityContext: 'core.v1.SecurityContext',
  },
  'core.v1.EphemeralVolumeSource': {
    volumeClaimTemplate: 'core.v1.PersistentVolumeClaimTemplate',
  },
  'core.v1.Event': {
    metadata: 'meta.v1.ObjectMeta emit',
    involvedObject: 'core.v1.ObjectReference emit',
    source: 'struct emit',
    related: 'core.v1.ObjectReference',
  },
  'core.v1.ExecAction': {
    command: '[] list=atomic',
  },
  'core.v1.FCVolumeSource': {
    targetWWNs: '[] list=atomic',
    wwids: '[] list=atomic',
  },
  'core.v1.FlexPersistentVolumeSource': {
    secretRef: 'core.v1.SecretReference',
    options: '{}',
  },
  'core.v1.FlexVolumeSource': {
    secretRef: 'core.v1.LocalObjectReference',
    options: '{}',
  },
  'core.v1.HTTPGetAction': {
    httpHeaders: '[] list=atomic',
  },
  'core.v1.HostAlias': {
    hostnames: '[] list=atomic',
  },
  'core.v1.ISCSIPersistentVolumeSource': {
    portals: '[] list=atomic',
    secretRef: 'core.v1.SecretReference',
  },
  'core.v1.ISCSIVolumeSource': {
    portals: '[] list=atomic',
    secretRef: 'core.v1.LocalObjectReference',
  },
  'core.v1.Lifecycle': {
    postStart: 'core.v1.LifecycleHandler',
    preStop: 'core.v1.LifecycleHandler',
  },
  'core.v1.LifecycleHandler': {
    exec: 'core.v1.ExecAction',
    httpGet: 'core.v1.HTTPGetAction',
  },
  'core.v1.LimitRange': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.LimitRangeSpec emit',
  },
  'core.v1.LimitRangeItem': {
    max: '{}',
    min: '{}',
    default: '{}',
    defaultRequest: '{}',
    maxLimitRequestRatio: '{}',
  },
  'core.v1.LimitRangeSpec': {
    limits: '[]core.v1.LimitRangeItem list=atomic null',
  },
  'core.v1.LinuxContainerUser': {
    supplementalGroups: '[] list=atomic',
  },
  'core.v1.LoadBalancerIngress': {
    ports: '[] list=atomic',
  },
  'core.v1.LoadBalancerStatus': {
    ingress: '[]core.v1.LoadBalancerIngress list=atomic',
  },
  'core.v1.Namespace': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.NamespaceSpec emit',
    status: 'core.v1.NamespaceStatus emit',
  },
  'core.v1.NamespaceSpec': {
    finalizers: '[] list=atomic',
  },
  'core.v1.NamespaceStatus': {
    conditions: '[] patch=merge key=type list=map:type',
  },
  'core.v1.Node': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.NodeSpec emit',
    status: 'core.v1.NodeStatus emit',
  },
  'core.v1.NodeAffinity': {
    requiredDuringSchedulingIgnoredDuringExecution: 'core.v1.NodeSelector',
    preferredDuringSchedulingIgnoredDuringExecution: '[]core.v1.PreferredSchedulingTerm list=atomic',
  },
  'core.v1.NodeDaemonEndpoints': {
    kubeletEndpoint: 'struct emit',
  },
  'core.v1.NodeSelector': {
    nodeSelectorTerms: '[]core.v1.NodeSelectorTerm list=atomic null',
  },
  'core.v1.NodeSelectorRequirement': {
    values: '[] list=atomic',
  },
  'core.v1.NodeSelectorTerm': {
    matchExpressions: '[]core.v1.NodeSelectorRequirement list=atomic',
    matchFields: '[]core.v1.NodeSelectorRequirement list=atomic',
  },
  'core.v1.NodeSpec': {
    podCIDRs: '[] patch=merge list=set',
    taints: '[] list=atomic',
  },
  'core.v1.NodeStatus': {
    capacity: '{}',
    allocatable: '{}',
    conditions: '[] patch=merge key=type list=map:type',
    addresses: '[] patch=merge key=type list=map:type',
    daemonEndpoints: 'core.v1.NodeDaemonEndpoints emit',
    nodeInfo: 'struct emit',
    images: '[]core.v1.ContainerImage list=atomic',
    volumesInUse: '[] list=atomic',
    volumesAttached: '[] list=atomic',
    runtimeHandlers: '[] list=atomic',
  },
  'core.v1.PersistentVolume': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.PersistentVolumeSpec emit',
    status: 'struct emit',
  },
  'core.v1.PersistentVolumeClaim': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.PersistentVolumeClaimSpec emit',
    status: 'core.v1.PersistentVolumeClaimStatus emit',
  },
  'core.v1.PersistentVolumeClaimSpec': {
    accessModes: '[] list=atomic',
    selector: 'meta.v1.LabelSelector',
    resources: 'core.v1.VolumeResourceRequirements emit',
    dataSource: 'core.v1.TypedLocalObjectReference',
  },
  'core.v1.PersistentVolumeClaimStatus': {
    accessModes: '[] list=atomic',
    capacity: '{}',
    conditions: '[] patch=merge key=type list=map:type',
    allocatedResources: '{}',
    allocatedResourceStatuses: '{} mapType=granular',
  },
  'core.v1.PersistentVolumeClaimTemplate': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.PersistentVolumeClaimSpec emit',
  },
  'core.v1.PersistentVolumeSpec': {
    capacity: '{}',
    rbd: 'core.v1.RBDPersistentVolumeSource',
    iscsi: 'core.v1.ISCSIPersistentVolumeSource',
    cinder: 'core.v1.CinderPersistentVolumeSource',
    cephfs: 'core.v1.CephFSPersistentVolumeSource',
    fc: 'core.v1.FCVolumeSource',
    flexVolume: 'core.v1.FlexPersistentVolumeSource',
    scaleIO: 'core.v1.ScaleIOPersistentVolumeSource',
    storageos: 'core.v1.StorageOSPersistentVolumeSource',
    csi: 'core.v1.CSIPersistentVolumeSource',
    accessModes: '[] list=atomic',
    claimRef: 'core.v1.ObjectReference mapType=granular',
    mountOptions: '[] list=atomic',
    nodeAffinity: 'core.v1.VolumeNodeAffinity',
  },
  'core.v1.Pod': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.PodSpec emit',
    status: 'core.v1.PodStatus emit',
  },
  'core.v1.PodAffinity': {
    requiredDuringSchedulingIgnoredDuringExecution: '[]core.v1.PodAffinityTerm list=atomic',
    preferredDuringSchedulingIgnoredDuringExecution: '[]core.v1.WeightedPodAffinityTerm list=atomic',
  },
  'core.v1.PodAffinityTerm': {
    labelSelector: 'meta.v1.LabelSelector',
    namespaces: '[] list=atomic',
    namespaceSelector: 'meta.v1.LabelSelector',
    matchLabelKeys: '[] list=atomic',
    mismatchLabelKeys: '[] list=atomic',
  },
  'core.v1.PodAntiAffinity': {
    requiredDuringSchedulingIgnoredDuringExecution: '[]core.v1.PodAffinityTerm list=atomic',
    preferredDuringSchedulingIgnoredDuringExecution: '[]core.v1.WeightedPodAffinityTerm list=atomic',
  },
  'core.v1.PodDNSConfig': {
    nameservers: '[] list=atomic',
    searches: '[] list=atomic',
    options: '[] list=atomic',
  },
  'core.v1.PodSecurityContext': {
    supplementalGroups: '[] list=atomic',
    sysctls: '[] list=atomic',
  },
  'core.v1.PodSpec': {
    volumes: '[]core.v1.Volume patch=merge,retainKeys key=name list=map:name',
    initContainers: '[]core.v1.Container patch=merge key=name list=map:name',
    containers: '[]core.v1.Container patch=merge key=name list=map:name null',
    ephemeralContainers: '[]core.v1.EphemeralContainer patch=merge key=name list=map:name',
    nodeSelector: '{} mapType=atomic',
    securityContext: 'core.v1.PodSecurityContext',
    imagePullSecrets: '[]core.v1.LocalObjectReference patch=merge key=name list=map:name default=name:""',
    affinity: 'core.v1.Affinity',
    tolerations: '[] list=atomic',
    hostAliases: '[]core.v1.HostAlias patch=merge key=ip list=map:ip',
    dnsConfig: 'core.v1.PodDNSConfig',
    readinessGates: '[] list=atomic',
    overhead: '{}',
    topologySpreadConstraints: '[]core.v1.TopologySpreadConstraint patch=merge key=topologyKey list=map:topologyKey,whenUnsatisfiable',
    schedulingGates: '[] patch=merge key=name list=map:name',
    resourceClaims: '[] patch=merge,retainKeys key=name list=map:name',
    resources: 'core.v1.ResourceRequirements',
  },
  'core.v1.PodStatus': {
    conditions: '[] patch=merge key=type list=map:type',
    hostIPs: '[] patch=merge key=ip list=atomic',
    podIPs: '[] patch=merge key=ip list=map:ip',
    initContainerStatuses: '[]core.v1.ContainerStatus list=atomic',
    containerStatuses: '[]core.v1.ContainerStatus list=atomic',
    ephemeralContainerStatuses: '[]core.v1.ContainerStatus list=atomic',
    resourceClaimStatuses: '[] patch=merge,retainKeys key=name list=map:name',
  },
  'core.v1.PodTemplateSpec': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.PodSpec emit',
  },
  'core.v1.PreferredSchedulingTerm': {
    preference: 'core.v1.NodeSelectorTerm emit',
  },
  'core.v1.Probe': {
    exec: 'core.v1.ExecAction',
    httpGet: 'core.v1.HTTPGetAction',
  },
  'core.v1.ProjectedVolumeSource': {
    sources: '[]core.v1.VolumeProjection list=atomic null',
  },
  'core.v1.RBDPersistentVolumeSource': {
    monitors: '[] list=atomic null',
    secretRef: 'core.v1.SecretReference',
  },
  'core.v1.RBDVolumeSource': {
    monitors: '[] list=atomic null',
    secretRef: 'core.v1.LocalObjectReference',
  },
  'core.v1.ReplicationController': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.ReplicationControllerSpec emit',
    status: 'core.v1.ReplicationControllerStatus emit',
  },
  'core.v1.ReplicationControllerSpec': {
    selector: '{} mapType=atomic',
    template: 'core.v1.PodTemplateSpec',
  },
  'core.v1.ReplicationControllerStatus': {
    conditions: '[] patch=merge key=type list=map:type',
  },
  'core.v1.ResourceQuota': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.ResourceQuotaSpec emit',
    status: 'core.v1.ResourceQuotaStatus emit',
  },
  'core.v1.ResourceQuotaSpec': {
    hard: '{}',
    scopes: '[] list=atomic',
    scopeSelector: 'core.v1.ScopeSelector',
  },
  'core.v1.ResourceQuotaStatus': {
    hard: '{}',
    used: '{}',
  },
  'core.v1.ResourceRequirements': {
    limits: '{}',
    requests: '{}',
    claims: '[] list=map:name',
  },
  'core.v1.ResourceStatus': {
    resources: '[] list=map:resourceID',
  },
  'core.v1.ScaleIOPersistentVolumeSource': {
    secretRef: 'core.v1.SecretReference null',
  },
  'core.v1.ScaleIOVolumeSource': {
    secretRef: 'core.v1.LocalObjectReference null',
  },
  'core.v1.ScopeSelector': {
    matchExpressions: '[]core.v1.ScopedResourceSelectorRequirement list=atomic',
  },
  'core.v1.ScopedResourceSelectorRequirement': {
    values: '[] list=atomic',
  },
  'core.v1.Secret': {
    metadata: 'meta.v1.ObjectMeta emit',
    data: '{}',
    stringData: '{}',
  },
  'core.v1.SecretProjection': {
    items: '[] list=atomic',
  },
  'core.v1.SecretVolumeSource': {
    items: '[] list=atomic',
  },
  'core.v1.SecurityContext': {
    capabilities: 'core.v1.Capabilities',
  },
  'core.v1.Service': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'core.v1.ServiceSpec emit',
    status: 'core.v1.ServiceStatus emit',
  },
  'core.v1.ServiceAccount': {
    metadata: 'meta.v1.ObjectMeta emit',
    secrets: '[]core.v1.ObjectReference patch=merge key=name list=map:name',
    imagePullSecrets: '[]core.v1.LocalObjectReference list=atomic',
  },
  'core.v1.ServiceSpec': {
    ports: '[] patch=merge key=port list=map:port,protocol default=protocol:"TCP"',
    selector: '{} mapType=atomic',
    clusterIPs: '[] list=atomic',
    externalIPs: '[] list=atomic',
    loadBalancerSourceRanges: '[] list=atomic',
    ipFamilies: '[] list=atomic',
  },
  'core.v1.ServiceStatus': {
    loadBalancer: 'core.v1.LoadBalancerStatus emit',
    conditions: '[] patch=merge key=type list=map:type',
  },
  'core.v1.StorageOSPersistentVolumeSource': {
    secretRef: 'core.v1.ObjectReference',
  },
  'core.v1.StorageOSVolumeSource': {
    secretRef: 'core.v1.LocalObjectReference',
  },
  'core.v1.TopologySelectorLabelRequirement': {
    values: '[] list=atomic null',
  },
  'core.v1.TopologySelectorTerm': {
    matchLabelExpressions: '[]core.v1.TopologySelectorLabelRequirement list=atomic',
  },
  'core.v1.TopologySpreadConstraint': {
    labelSelector: 'meta.v1.LabelSelector',
    matchLabelKeys: '[] list=atomic',
  },
  'core.v1.Volume': {
    secret: 'core.v1.SecretVolumeSource',
    iscsi: 'core.v1.ISCSIVolumeSource',
    rbd: 'core.v1.RBDVolumeSource',
    flexVolume: 'core.v1.FlexVolumeSource',
    cinder: 'core.v1.CinderVolumeSource',
    cephfs: 'core.v1.CephFSVolumeSource',
    downwardAPI: 'core.v1.DownwardAPIVolumeSource',
    fc: 'core.v1.FCVolumeSource',
    configMap: 'core.v1.ConfigMapVolumeSource',
    projected: 'core.v1.ProjectedVolumeSource',
    scaleIO: 'core.v1.ScaleIOVolumeSource',
    storageos: 'core.v1.StorageOSVolumeSource',
    csi: 'core.v1.CSIVolumeSource',
    ephemeral: 'core.v1.EphemeralVolumeSource',
  },
  'core.v1.VolumeNodeAffinity': {
    required: 'core.v1.NodeSelector',
  },
  'core.v1.VolumeProjection': {
    secret: 'core.v1.SecretProjection',
    downwardAPI: 'core.v1.DownwardAPIProjection',
    configMap: 'core.v1.ConfigMapProjection',
    clusterTrustBundle: 'core.v1.ClusterTrustBundleProjection',
  },
  'core.v1.VolumeResourceRequirements': {
    limits: '{}',
    requests: '{}',
  },
  'core.v1.WeightedPodAffinityTerm': {
    podAffinityTerm: 'core.v1.PodAffinityTerm emit',
  },
  'apps.v1.ControllerRevision': {
    metadata: 'meta.v1.ObjectMeta emit',
  },
  'apps.v1.DaemonSet': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'apps.v1.DaemonSetSpec emit',
    status: 'apps.v1.DaemonSetStatus emit',
  },
  'apps.v1.DaemonSetSpec': {
    selector: 'meta.v1.LabelSelector null',
    template: 'core.v1.PodTemplateSpec emit',
    updateStrategy: 'struct emit',
  },
  'apps.v1.DaemonSetStatus': {
    conditions: '[] patch=merge key=type list=map:type',
  },
  'apps.v1.Deployment': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'apps.v1.DeploymentSpec emit',
    status: 'apps.v1.DeploymentStatus emit',
  },
  'apps.v1.DeploymentSpec': {
    selector: 'meta.v1.LabelSelector null',
    template: 'core.v1.PodTemplateSpec emit',
    strategy: 'struct patch=retainKeys emit',
  },
  'apps.v1.DeploymentStatus': {
    conditions: '[] patch=merge key=type list=map:type',
  },
  'apps.v1.ReplicaSet': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'apps.v1.ReplicaSetSpec emit',
    status: 'apps.v1.ReplicaSetStatus emit',
  },
  'apps.v1.ReplicaSetSpec': {
    selector: 'meta.v1.LabelSelector null',
    template: 'core.v1.PodTemplateSpec emit',
  },
  'apps.v1.ReplicaSetStatus': {
    conditions: '[] patch=merge key=type list=map:type',
  },
  'apps.v1.StatefulSet': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'apps.v1.StatefulSetSpec emit',
    status: 'apps.v1.StatefulSetStatus emit',
  },
  'apps.v1.StatefulSetSpec': {
    selector: 'meta.v1.LabelSelector null',
    template: 'core.v1.PodTemplateSpec emit',
    volumeClaimTemplates: '[]core.v1.PersistentVolumeClaim list=atomic',
    updateStrategy: 'struct emit',
  },
  'apps.v1.StatefulSetStatus': {
    conditions: '[] patch=merge key=type list=map:type',
  },
  'batch.v1.CronJob': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'batch.v1.CronJobSpec emit',
    status: 'batch.v1.CronJobStatus emit',
  },
  'batch.v1.CronJobSpec': {
    jobTemplate: 'batch.v1.JobTemplateSpec emit',
  },
  'batch.v1.CronJobStatus': {
    active: '[]core.v1.ObjectReference list=atomic',
  },
  'batch.v1.Job': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'batch.v1.JobSpec emit',
    status: 'batch.v1.JobStatus emit',
  },
  'batch.v1.JobSpec': {
    podFailurePolicy: 'batch.v1.PodFailurePolicy',
    successPolicy: 'batch.v1.SuccessPolicy',
    selector: 'meta.v1.LabelSelector',
    template: 'core.v1.PodTemplateSpec emit',
  },
  'batch.v1.JobStatus': {
    conditions: '[] patch=merge key=type list=atomic',
    uncountedTerminatedPods: 'batch.v1.UncountedTerminatedPods',
  },
  'batch.v1.JobTemplateSpec': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'batch.v1.JobSpec emit',
  },
  'batch.v1.PodFailurePolicy': {
    rules: '[]batch.v1.PodFailurePolicyRule list=atomic null',
  },
  'batch.v1.PodFailurePolicyOnExitCodesRequirement': {
    values: '[] list=set null',
  },
  'batch.v1.PodFailurePolicyRule': {
    onExitCodes: 'batch.v1.PodFailurePolicyOnExitCodesRequirement',
    onPodConditions: '[] list=atomic',
  },
  'batch.v1.SuccessPolicy': {
    rules: '[] list=atomic null',
  },
  'batch.v1.UncountedTerminatedPods': {
    succeeded: '[] list=set',
    failed: '[] list=set',
  },
  'autoscaling.v2.ContainerResourceMetricSource': {
    target: 'struct emit',
  },
  'autoscaling.v2.ContainerResourceMetricStatus': {
    current: 'struct emit',
  },
  'autoscaling.v2.ExternalMetricSource': {
    metric: 'autoscaling.v2.MetricIdentifier emit',
    target: 'struct emit',
  },
  'autoscaling.v2.ExternalMetricStatus': {
    metric: 'autoscaling.v2.MetricIdentifier emit',
    current: 'struct emit',
  },
  'autoscaling.v2.HPAScalingRules': {
    policies: '[] list=atomic',
  },
  'autoscaling.v2.HorizontalPodAutoscaler': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'autoscaling.v2.HorizontalPodAutoscalerSpec emit',
    status: 'autoscaling.v2.HorizontalPodAutoscalerStatus emit',
  },
  'autoscaling.v2.HorizontalPodAutoscalerBehavior': {
    scaleUp: 'autoscaling.v2.HPAScalingRules',
    scaleDown: 'autoscaling.v2.HPAScalingRules',
  },
  'autoscaling.v2.HorizontalPodAutoscalerSpec': {
    scaleTargetRef: 'struct emit',
    metrics: '[]autoscaling.v2.MetricSpec list=atomic',
    behavior: 'autoscaling.v2.HorizontalPodAutoscalerBehavior',
  },
  'autoscaling.v2.HorizontalPodAutoscalerStatus': {
    currentMetrics: '[]autoscaling.v2.MetricStatus list=atomic null',
    conditions: '[] patch=merge key=type list=map:type',
  },
  'autoscaling.v2.MetricIdentifier': {
    selector: 'meta.v1.LabelSelector',
  },
  'autoscaling.v2.MetricSpec': {
    object: 'autoscaling.v2.ObjectMetricSource',
    pods: 'autoscaling.v2.PodsMetricSource',
    resource: 'autoscaling.v2.ResourceMetricSource',
    containerResource: 'autoscaling.v2.ContainerResourceMetricSource',
    external: 'autoscaling.v2.ExternalMetricSource',
  },
  'autoscaling.v2.MetricStatus': {
    object: 'autoscaling.v2.ObjectMetricStatus',
    pods: 'autoscaling.v2.PodsMetricStatus',
    resource: 'autoscaling.v2.ResourceMetricStatus',
    containerResource: 'autoscaling.v2.ContainerResourceMetricStatus',
    external: 'autoscaling.v2.ExternalMetricStatus',
  },
  'autoscaling.v2.ObjectMetricSource': {
    describedObject: 'struct emit',
    target: 'struct emit',
    metric: 'autoscaling.v2.MetricIdentifier emit',
  },
  'autoscaling.v2.ObjectMetricStatus': {
    metric: 'autoscaling.v2.MetricIdentifier emit',
    current: 'struct emit',
    describedObject: 'struct emit',
  },
  'autoscaling.v2.PodsMetricSource': {
    metric: 'autoscaling.v2.MetricIdentifier emit',
    target: 'struct emit',
  },
  'autoscaling.v2.PodsMetricStatus': {
    metric: 'autoscaling.v2.MetricIdentifier emit',
    current: 'struct emit',
  },
  'autoscaling.v2.ResourceMetricSource': {
    target: 'struct emit',
  },
  'autoscaling.v2.ResourceMetricStatus': {
    current: 'struct emit',
  },
  'coordination.v1.Lease': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'struct emit',
  },
  'discovery.v1.Endpoint': {
    addresses: '[] list=set null',
    conditions: 'struct emit',
    targetRef: 'core.v1.ObjectReference',
    deprecatedTopology: '{}',
    hints: 'discovery.v1.EndpointHints',
  },
  'discovery.v1.EndpointHints': {
    forZones: '[] list=atomic',
  },
  'discovery.v1.EndpointSlice': {
    metadata: 'meta.v1.ObjectMeta emit',
    endpoints: '[]discovery.v1.Endpoint list=atomic null',
    ports: '[]discovery.v1.EndpointPort list=atomic null',
  },
  'networking.v1.HTTPIngressPath': {
    backend: 'networking.v1.IngressBackend emit',
  },
  'networking.v1.HTTPIngressRuleValue': {
    paths: '[]networking.v1.HTTPIngressPath list=atomic null',
  },
  'networking.v1.Ingress': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'networking.v1.IngressSpec emit',
    status: 'networking.v1.IngressStatus emit',
  },
  'networking.v1.IngressBackend': {
    service: 'networking.v1.IngressServiceBackend',
    resource: 'core.v1.TypedLocalObjectReference',
  },
  'networking.v1.IngressClass': {
    metadata: 'meta.v1.ObjectMeta emit',
    spec: 'struct emit',
  },
  'networking.v1.IngressLoadBalancerIngress': {
    ports: '[] list=atomic',
  },
  'networking.v1.IngressLoadBalancerStatus': {
    ingress: '[]networking.v1.IngressLoadBalancerIngress list=atomic',
  },
  'networking.v1.IngressRule': {
    http: 'networking.v1.HTTPIngressRuleValue',
  },
  'networking.v1.IngressServiceBackend': {
    port: 'networking.v1.ServiceBackendPort emit',
  },
  'networking.v1.IngressSpec': {
    defaultBackend: 'networking.v1.IngressBackend',
    tls: '[]networking.v1.IngressTLS list=atomic',
    rules: '[]networking.v1.IngressRule list=atomic',
  },
  'networking.v1.IngressStatus': {
    loadBalancer: 'networking.v1.IngressLoadBalancerStatus emit',
  },
  'networking.v1.IngressTLS': {
    hosts: '[] list=atomic',
  },
  'scheduling.v1.PriorityClass': {
    metadata: 'meta.v1.ObjectMeta emit',
  },
  'storage.v1.StorageClass': {
    metadata: 'meta.v1.ObjectMeta emit',
    parameters: '{}',
    mountOptions: '[] list=atomic',
    allowedTopologies: '[]core.v1.TopologySelectorTerm list=atomic',
  },
  'rbac.v1.AggregationRule': {
    clusterRoleSelectors: '[]meta.v1.LabelSelector list=atomic',
  },
  'rbac.v1.ClusterRole': {
    metadata: 'meta.v1.ObjectMeta emit',
    rules: '[]rbac.v1.PolicyRule list=atomic null',
    aggregationRule: 'rbac.v1.AggregationRule',
  },
  'rbac.v1.ClusterRoleBinding': {
    metadata: 'meta.v1.ObjectMeta emit',
    subjects: '[]rbac.v1.Subject list=atomic',
    roleRef: 'rbac.v1.RoleRef emit',
  },
  'rbac.v1.PolicyRule': {
    verbs: '[] list=atomic null',
    apiGroups: '[] list=atomic',
    resources: '[] list=atomic',
    resourceNames: '[] list=atomic',
    nonResourceURLs: '[] list=atomic',
  },
  'rbac.v1.Role': {
    metadata: 'meta.v1.ObjectMeta emit',
    rules: '[]rbac.v1.PolicyRule list=atomic null',
  },
  'rbac.v1.RoleBinding': {
    metadata: 'meta.v1.ObjectMeta emit',
    subjects: '[]rbac.v1.Subject list=atomic',
    roleRef: 'rbac.v1.RoleRef emit',
  },
}

// Definitions marked +structType=atomic: applied and owned as one value.
const ATOMIC_STRUCTS: ReadonlySet<string> = new Set([
  'meta.v1.LabelSelector',
  'meta.v1.OwnerReference',
  'core.v1.ConfigMapKeySelector',
  'core.v1.EndpointAddress',
  'core.v1.EndpointPort',
  'core.v1.LocalObjectReference',
  'core.v1.NodeSelector',
  'core.v1.NodeSelectorTerm',
  'core.v1.ObjectFieldSelector',
  'core.v1.ObjectReference',
  'core.v1.ResourceFieldSelector',
  'core.v1.ScopeSelector',
  'core.v1.SecretKeySelector',
  'core.v1.SecretReference',
  'core.v1.TopologySelectorTerm',
  'core.v1.TypedLocalObjectReference',
  'discovery.v1.EndpointPort',
  'networking.v1.ServiceBackendPort',
  'rbac.v1.RoleRef',
  'rbac.v1.Subject',
])

const SCALAR: ScalarNode = { kind: 'scalar' }
const UNTYPED: UntypedNode = { kind: 'untyped' }
const NO_FIELDS: ReadonlyMap<string, FieldSchema> = new Map()

const OPENAPI_PREFIX: Readonly<Record<string, string>> = { meta: 'io.k8s.apimachinery.pkg.apis.meta' }

/** `core.v1.PodSpec` → `io.k8s.api.core.v1.PodSpec`; a full name is returned as is. */
export function openApiDefinitionName(short: string): string {
  if (short.startsWith('io.k8s.')) return short
  const group = short.slice(0, short.indexOf('.'))
  const prefix = OPENAPI_PREFIX[group]
  return prefix !== undefined ? `${prefix}${short.slice(group.length)}` : `io.k8s.api.${short}`
}

function shortDefinitionName(name: string): string {
  if (name.startsWith('io.k8s.apimachinery.pkg.apis.')) return name.slice('io.k8s.apimachinery.pkg.apis.'.length)
  if (name.startsWith('io.k8s.api.')) return name.slice('io.k8s.api.'.length)
  return name
}

interface ParsedSpec {
  readonly type: string
  readonly meta: FieldPatchMeta
  readonly keyDefaults: Readonly<Record<string, unknown>>
  readonly unset: FieldSchema['unset']
}

function parseSpec(spec: string): ParsedSpec {
  const [type = '-', ...options] = spec.split(' ')
  const meta: { -readonly [K in keyof FieldPatchMeta]: FieldPatchMeta[K] } = {}
  const keyDefaults: Record<string, unknown> = {}
  let unset: FieldSchema['unset'] = 'omitted'
  for (const option of options) {
    if (option === 'emit' || option === 'null') {
      unset = option === 'emit' ? 'empty' : 'null'
      continue
    }
    const eq = option.indexOf('=')
    const value = option.slice(eq + 1)
    switch (option.slice(0, eq)) {
      case 'patch':
        meta.patchStrategy = value
        if (value.split(',').includes('retainKeys')) meta.retainKeys = true
        break
      case 'key':
        meta.patchMergeKey = value
        break
      case 'list': {
        const [listType, keys] = value.split(':')
        meta.listType = listType as ListType
        if (keys !== undefined) meta.listMapKeys = keys.split(',')
        break
      }
      case 'default': {
        const colon = value.indexOf(':')
        keyDefaults[value.slice(0, colon)] = JSON.parse(value.slice(colon + 1))
        break
      }
      case 'mapType':
        meta.mapType = value as MapType
        break
      default:
        throw new Error(`patch-meta: unknown option ${option} in "${spec}"`)
    }
  }
  return { type, meta, keyDefaults, unset }
}

/** A struct described by the table, its fields parsed on first use. */
class DefinedStruct implements StructNode {
  readonly kind = 'struct'
  #fields: Map<string, FieldSchema> | undefined

  constructor(
    readonly short: string,
    readonly atomic: boolean,
  ) {}

  get definition(): string {
    return openApiDefinitionName(this.short)
  }

  field(name: string): FieldSchema | undefined {
    return this.fields().get(name)
  }

  fieldNames(): readonly string[] {
    return [...this.fields().keys()]
  }

  private fields(): ReadonlyMap<string, FieldSchema> {
    if (this.#fields === undefined) {
      this.#fields = new Map()
      for (const [name, spec] of Object.entries(DEFINITIONS[this.short] ?? {})) {
        const parsed = parseSpec(spec)
        this.#fields.set(name, { name, node: nodeOf(parsed), meta: parsed.meta, unset: parsed.unset })
      }
    }
    return this.#fields
  }
}

const UNDESCRIBED_STRUCT: StructNode = { kind: 'struct', definition: undefined, atomic: false, field: (name) => NO_FIELDS.get(name), fieldNames: () => [] }
const UNDESCRIBED_ATOMIC_STRUCT: StructNode = { ...UNDESCRIBED_STRUCT, atomic: true }

const structs = new Map<string, DefinedStruct>()

function structNode(short: string, mapType: MapType | undefined): StructNode {
  const atomic = mapType !== undefined ? mapType === 'atomic' : ATOMIC_STRUCTS.has(short)
  const cacheKey = `${short}|${atomic}`
  let node = structs.get(cacheKey)
  if (node === undefined) {
    node = new DefinedStruct(short, atomic)
    structs.set(cacheKey, node)
  }
  return node
}

// Server-side apply's reading of a list (kube-openapi's schemaconv): the listType
// marker when present, else a `merge` patch strategy makes it a map keyed by the merge
// key (a set when there is none), else atomic.
function listNode(elemType: string, meta: FieldPatchMeta, keyDefaults: Readonly<Record<string, unknown>>): ListNode {
  const elem = elemType === '' ? UNTYPED : typeNode(elemType, {})
  let relationship: ListNode['relationship'] = 'atomic'
  let keys: readonly string[] = []
  if (meta.listType !== undefined) {
    relationship = meta.listType === 'atomic' ? 'atomic' : 'associative'
    keys = meta.listType === 'map' ? (meta.listMapKeys ?? []) : []
  } else if (meta.patchStrategy === 'merge' || meta.patchStrategy === 'merge,retainKeys') {
    relationship = 'associative'
    keys = meta.patchMergeKey !== undefined ? [meta.patchMergeKey] : []
  }
  return { kind: 'list', relationship, keys, keyDefaults, elem }
}

function typeNode(type: string, meta: FieldPatchMeta, keyDefaults: Readonly<Record<string, unknown>> = {}): SchemaNode {
  if (type === '-') return SCALAR
  if (type === 'struct') return meta.mapType === 'atomic' ? UNDESCRIBED_ATOMIC_STRUCT : UNDESCRIBED_STRUCT
  if (type.startsWith('[]')) return listNode(type.slice(2), meta, keyDefaults)
  if (type.startsWith('{}')) {
    const elem = type.length > 2 ? typeNode(type.slice(2), {}) : SCALAR
    return { kind: 'map', atomic: meta.mapType === 'atomic', elem }
  }
  return structNode(type, meta.mapType)
}

function nodeOf(parsed: ParsedSpec): SchemaNode {
  return typeNode(parsed.type, parsed.meta, parsed.keyDefaults)
}

/** The short definition name of a served resource's kind: `apps.v1.Deployment`. */
function rootDefinition(r: Pick<ResourceType, 'group' | 'version' | 'kind'>): string {
  const group = r.group === '' ? 'core' : r.group.slice(0, r.group.indexOf('.') === -1 ? undefined : r.group.indexOf('.'))
  return `${group}.${r.version}.${r.kind}`
}

function hasMeta(meta: FieldPatchMeta): boolean {
  return Object.keys(meta).length > 0
}

export interface PatchMetaEntry {
  /** JSON path of the field from the object's root; list elements are stepped through. */
  readonly path: readonly string[]
  readonly meta: FieldPatchMeta
  /** OpenAPI definition that declares the field. */
  readonly definition: string
}

export interface KindPatchMeta {
  readonly apiVersion: string
  readonly kind: string
  /** OpenAPI definition of the kind: `io.k8s.api.apps.v1.Deployment`. */
  readonly definition: string
  /** The schema tree the patch code walks. */
  readonly schema: StructNode
  /** Metadata of the field at a JSON path such as ['spec','template','spec','containers']. */
  lookup(path: readonly string[]): FieldPatchMeta | undefined
  /** Every field with patch metadata reachable from the root. */
  entries(): readonly PatchMetaEntry[]
}

/** The field schema at a JSON path (list and map elements stepped through), if described. */
export function fieldAt(root: SchemaNode, path: readonly string[]): FieldSchema | undefined {
  let node: SchemaNode = root
  let field: FieldSchema | undefined
  for (const segment of path) {
    while (node.kind === 'list' || node.kind === 'map') node = node.elem
    if (node.kind !== 'struct') return undefined
    field = node.field(segment)
    if (field === undefined) return undefined
    node = field.node
  }
  return field
}

function collectEntries(node: SchemaNode, path: string[], onPath: Set<string>, out: PatchMetaEntry[]): void {
  while (node.kind === 'list' || node.kind === 'map') node = node.elem
  if (node.kind !== 'struct' || node.definition === undefined || onPath.has(node.definition)) return
  onPath.add(node.definition)
  for (const name of node.fieldNames()) {
    const field = node.field(name)
    if (field === undefined) continue
    const fieldPath = [...path, name]
    if (hasMeta(field.meta)) out.push({ path: fieldPath, meta: field.meta, definition: node.definition })
    collectEntries(field.node, fieldPath, onPath, out)
  }
  onPath.delete(node.definition)
}

const kindMetas = new Map<string, KindPatchMeta>()
for (const r of RESOURCES) {
  const apiVersion = apiVersionOf(r)
  const short = rootDefinition(r)
  if (DEFINITIONS[short] === undefined) continue
  const schema = structNode(short, undefined)
  let entries: readonly PatchMetaEntry[] | undefined
  kindMetas.set(`${apiVersion}/${r.kind}`, {
    apiVersion,
    kind: r.kind,
    definition: schema.definition ?? short,
    schema,
    lookup(path) {
      const field = fieldAt(schema, path)
      return field !== undefined && hasMeta(field.meta) ? field.meta : undefined
    },
    entries() {
      if (entries === undefined) {
        const out: PatchMetaEntry[] = []
        collectEntries(schema, [], new Set(), out)
        entries = out
      }
      return entries
    },
  })
}

/** Patch metadata of a served kind, or undefined for a kind we do not serve. */
export function patchMetaFor(apiVersion: string, kind: string): KindPatchMeta | undefined {
  return kindMetas.get(`${apiVersion}/${kind}`)
}

/**
 * Whether kube-apiserver accepts `application/strategic-merge-patch+json` for the kind:
 * built-in kinds yes; custom resources get 415 (they have no Go struct tags).
 */
export function supportsStrategicMergePatch(apiVersion: string, kind: string): boolean {
  return kindMetas.has(`${apiVersion}/${kind}`)
}

/** Every OpenAPI definition the table describes, full names. */
export function patchMetaDefinitions(): readonly string[] {
  const names = new Set([...Object.keys(DEFINITIONS), ...ATOMIC_STRUCTS])
  return [...names].map(openApiDefinitionName)
}

/** The fields of one definition that carry patch metadata, by JSON field name. */
export function patchMetaForDefinition(definition: string): ReadonlyMap<string, FieldPatchMeta> {
  const out = new Map<string, FieldPatchMeta>()
  for (const [name, spec] of Object.entries(DEFINITIONS[shortDefinitionName(definition)] ?? {})) {
    const { meta } = parseSpec(spec)
    if (hasMeta(meta)) out.set(name, meta)
  }
  return out
}

/** Whether the definition is `+structType=atomic` (OpenAPI: x-kubernetes-map-type: atomic). */
export function isAtomicDefinition(definition: string): boolean {
  return ATOMIC_STRUCTS.has(shortDefinitionName(definition))
}

/** The OpenAPI vendor extensions for a field's metadata, in kube-openapi's spelling. */
export function openApiExtensions(meta: FieldPatchMeta): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {}
  if (meta.listMapKeys !== undefined) out['x-kubernetes-list-map-keys'] = meta.listMapKeys
  if (meta.listType !== undefined) out['x-kubernetes-list-type'] = meta.listType
  if (meta.mapType !== undefined) out['x-kubernetes-map-type'] = meta.mapType
  if (meta.patchMergeKey !== undefined) out['x-kubernetes-patch-merge-key'] = meta.patchMergeKey
  if (meta.patchStrategy !== undefined) out['x-kubernetes-patch-strategy'] = meta.patchStrategy
  return out
}
