// The query and path parameters of Kubernetes REST operations, by name. kubectl reads
// one of them from the spec: whether PATCH of a kind takes `fieldValidation` (then it
// leaves unknown-field checks to the server instead of validating client-side).

export interface Parameter {
  name: string
  in: 'query' | 'path'
  type: 'string' | 'integer' | 'boolean'
  description: string
  required?: boolean
}

function query(name: string, type: Parameter['type'], description: string): Parameter {
  return { name, in: 'query', type, description }
}

export const PARAMETERS = {
  pretty: query('pretty', 'string', "If 'true', then the output is pretty printed."),
  allowWatchBookmarks: query(
    'allowWatchBookmarks',
    'boolean',
    'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers may ignore this flag and send bookmarks at their discretion; clients must not assume they arrive at any interval. Ignored unless this is a watch.',
  ),
  continue: query(
    'continue',
    'string',
    'The continue token of a previous list response with the same query, to read the next chunk of a paginated list. A token too old to be served is answered with 410 Expired, and the client lists again from the start. Not supported when watch is true.',
  ),
  fieldSelector: query('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
  labelSelector: query('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
  limit: query(
    'limit',
    'integer',
    'limit is the maximum number of items to return in a list response. When more items exist the list metadata carries a `continue` token for the next chunk; all chunks together are a consistent snapshot of the collection at the first request. Not supported when watch is true.',
  ),
  resourceVersion: query(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset',
  ),
  resourceVersionMatch: query(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset',
  ),
  sendInitialEvents: query(
    'sendInitialEvents',
    'boolean',
    'With watch=true, sendInitialEvents=true starts the watch with synthetic ADDED events for every object of the collection, followed by a BOOKMARK carrying the annotation "k8s.io/initial-events-end": "true". Requires resourceVersionMatch=NotOlderThan. Defaults to false.',
  ),
  timeoutSeconds: query('timeoutSeconds', 'integer', 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.'),
  watch: query('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.'),
  dryRun: query(
    'dryRun',
    'string',
    'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed',
  ),
  fieldManager: query(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.',
  ),
  fieldManagerForApply: query(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).',
  ),
  fieldValidation: query(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.',
  ),
  force: query(
    'force',
    'boolean',
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
  ),
  gracePeriodSeconds: query(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.',
  ),
  orphanDependents: query(
    'orphanDependents',
    'boolean',
    'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.',
  ),
  propagationPolicy: query(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
  ),
  // pods/log
  container: query('container', 'string', 'The container for which to stream logs. Defaults to only container if there is one container in the pod.'),
  follow: query('follow', 'boolean', 'Follow the log stream of the pod. Defaults to false.'),
  insecureSkipTLSVerifyBackend: query(
    'insecureSkipTLSVerifyBackend',
    'boolean',
    "insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to. This will make the HTTPS connection between the apiserver and the backend insecure. This means the apiserver cannot verify the log data it is receiving came from the real kubelet. If the kubelet is configured to verify the apiserver's TLS credentials, it does not mean the connection to the real kubelet is vulnerable to a man in the middle attack (e.g. an attacker could not intercept the actual log data coming from the real kubelet).",
  ),
  limitBytes: query(
    'limitBytes',
    'integer',
    'If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.',
  ),
  previous: query('previous', 'boolean', 'Return previous terminated container logs. Defaults to false.'),
  sinceSeconds: query(
    'sinceSeconds',
    'integer',
    'A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.',
  ),
  tailLines: query(
    'tailLines',
    'integer',
    'If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime',
  ),
  timestamps: query('timestamps', 'boolean', 'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.'),
} satisfies Record<string, Parameter>

export function pathName(kind: string): Parameter {
  return { name: 'name', in: 'path', type: 'string', required: true, description: `name of the ${kind}` }
}

export const PATH_NAMESPACE: Parameter = {
  name: 'namespace',
  in: 'path',
  type: 'string',
  required: true,
  description: 'object name and auth scope, such as for teams and projects',
}

const P = PARAMETERS

/** Query parameters of list and watch (collection GET, deprecated /watch/ paths). */
export const LIST_PARAMETERS: Parameter[] = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
]

export const CREATE_PARAMETERS: Parameter[] = [P.dryRun, P.fieldManager, P.fieldValidation]
export const UPDATE_PARAMETERS: Parameter[] = [P.dryRun, P.fieldManager, P.fieldValidation]
export const PATCH_PARAMETERS: Parameter[] = [P.dryRun, P.fieldManagerForApply, P.fieldValidation, P.force]
export const DELETE_PARAMETERS: Parameter[] = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy]
export const DELETE_COLLECTION_PARAMETERS: Parameter[] = [
  P.continue,
  P.dryRun,
  P.fieldSelector,
  P.gracePeriodSeconds,
  P.labelSelector,
  P.limit,
  P.orphanDependents,
  P.propagationPolicy,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
]
export const LOG_PARAMETERS: Parameter[] = [
  P.container,
  P.follow,
  P.insecureSkipTLSVerifyBackend,
  P.limitBytes,
  P.previous,
  P.sinceSeconds,
  P.tailLines,
  P.timestamps,
]
