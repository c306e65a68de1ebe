// Pod validation: containers, ports, env, volumes and mounts, resources, probes,
// policies and scheduling fields on create; the immutable spec on update.
import t from 'tap'
import { applyDefaults } from '../../src/api/defaults.js'
import type { Json } from '../../src/api/json.js'
import { computePodQOS } from '../../src/api/validation/pod.js'
import { clone, createErrors, pod, RFC1123_LABEL, rt, updateErrors } from './fixtures.js'

function withSpec(spec: Json, meta: Json = {}): Json {
  const p = pod()
  p.spec = spec
  Object.assign(p.metadata as Json, meta)
  return p
}

function stored(obj: Json): Json {
  applyDefaults(rt('Pod'), obj)
  return obj
}

t.test('a minimal pod is valid once defaulted', async (t) => {
  t.strictSame(createErrors('Pod', pod()), [])
})

t.test('containers: required, unique DNS-label names, images', async (t) => {
  t.strictSame(createErrors('Pod', withSpec({ containers: [] })), ['spec.containers: Required value'])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'App', image: 'x' }, { name: 'b' }, { name: 'b', image: 'y' }] })), [
    `spec.containers[0].name: Invalid value: "App": ${RFC1123_LABEL}`,
    'spec.containers[1].image: Required value',
    'spec.containers[2].name: Duplicate value: "b"',
  ])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], initContainers: [{ name: 'a', image: 'x' }] })), ['spec.initContainers[0].name: Duplicate value: "a"'])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x', restartPolicy: 'Always' }] })), ['spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers'])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], initContainers: [{ name: 'i', image: 'x', readinessProbe: { exec: { command: ['true'] } } }] })), [
    'spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
  ])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Sometimes' }] })), [
    'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
  ])
})

t.test('ports', async (t) => {
  const c = { name: 'a', image: 'x', ports: [{ containerPort: 0 }, { containerPort: 70000, name: 'http' }, { containerPort: 80, name: 'http', protocol: 'HTTP' }, { containerPort: 81, name: 'Bad_Name' }] }
  t.strictSame(createErrors('Pod', withSpec({ containers: [c] })), [
    'spec.containers[0].ports[0].containerPort: Required value',
    'spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    'spec.containers[0].ports[2].name: Duplicate value: "http"',
    'spec.containers[0].ports[2].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    'spec.containers[0].ports[3].name: Invalid value: "Bad_Name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
  ])
  const hostPorts = { containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }, { name: 'b', image: 'x', ports: [{ containerPort: 81, hostPort: 8080 }] }] }
  t.strictSame(createErrors('Pod', withSpec(hostPorts)), ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'])
})

t.test('env and envFrom', async (t) => {
  const c = {
    name: 'a',
    image: 'x',
    env: [
      { name: '' },
      { name: 'A=B' },
      { name: 'OK', valueFrom: {} },
      { name: 'F', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'G', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } },
      { name: 'H', value: 'v', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      { name: 'L', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    ],
    envFrom: [{ prefix: 'P_' }],
  }
  t.strictSame(createErrors('Pod', withSpec({ containers: [c] })), [
    'spec.containers[0].env[0].name: Required value',
    'spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than \'=\'',
    'spec.containers[0].env[2].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
    'spec.containers[0].env[4].valueFrom.fieldRef.fieldPath: Invalid value: "spec.bogus": error converting fieldPath: field label not supported: spec.bogus',
    'spec.containers[0].env[5].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
    'spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`',
  ])
})

t.test('volumes and mounts', async (t) => {
  const spec = {
    volumes: [{ name: 'data' }, { name: 'data', emptyDir: {} }, { name: 'Cfg', configMap: {} }, { name: 'two', emptyDir: {}, hostPath: { path: '/x' } }, { name: 'hp', hostPath: { path: '/a/../b', type: 'Weird' } }],
    containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'missing', mountPath: '/m' }, { name: 'data', mountPath: '/m' }, { name: 'data', mountPath: '' }] }],
  }
  t.strictSame(createErrors('Pod', withSpec(spec)), [
    'spec.volumes[1].name: Duplicate value: "data"',
    'spec.volumes[2].configMap.name: Required value',
    `spec.volumes[2].name: Invalid value: "Cfg": ${RFC1123_LABEL}`,
    'spec.volumes[3].hostPath: Forbidden: may not specify more than 1 volume type',
    'spec.volumes[4].hostPath.path: Invalid value: "/a/../b": must not contain \'..\'',
    'spec.volumes[4].hostPath.type: Unsupported value: "Weird": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
    'spec.containers[0].volumeMounts[0].name: Not found: "missing"',
    'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/m": must be unique',
    'spec.containers[0].volumeMounts[2].mountPath: Required value',
  ])
  t.strictSame(createErrors('Pod', withSpec({ volumes: [{ name: 'cm', configMap: { name: 'c', items: [{ key: 'k', path: '../x' }] } }], containers: [{ name: 'a', image: 'x' }] })), [
    "spec.volumes[0].configMap.items[0].path: Invalid value: \"../x\": must not contain '..'",
  ])
})

t.test('resources: names, quantities, requests not above limits', async (t) => {
  const c = (resources: Json): Json => withSpec({ containers: [{ name: 'a', image: 'x', resources }] })
  t.strictSame(createErrors('Pod', c({ requests: { cpu: '2' }, limits: { cpu: '1' } })), ['spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'])
  t.strictSame(createErrors('Pod', c({ limits: { memory: '-1Gi' } })), ['spec.containers[0].resources.limits[memory]: Invalid value: "-1Gi": must be greater than or equal to 0', 'spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0'])
  t.strictSame(createErrors('Pod', c({ requests: { gpu: '1' } })), ['spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified', 'spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers'])
  t.strictSame(createErrors('Pod', c({ limits: { 'example.com/dongle': '1500m' } })), [
    'spec.containers[0].resources.limits[example.com/dongle]: Invalid value: "1500m": must be an integer',
    'spec.containers[0].resources.requests[example.com/dongle]: Invalid value: "1500m": must be an integer',
  ])
  t.strictSame(createErrors('Pod', c({ requests: { 'example.com/dongle': '1' } })), ['spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources'])
  t.strictSame(createErrors('Pod', c({ requests: { cpu: 'lots' } })), [
    "spec.containers[0].resources.requests[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  ])
})

t.test('probes and lifecycle', async (t) => {
  const c = { name: 'a', image: 'x', livenessProbe: { successThreshold: 2, httpGet: { port: 'Bad_Port' } }, readinessProbe: {}, lifecycle: { preStop: { exec: { command: [] }, sleep: { seconds: 1 } } } }
  t.strictSame(createErrors('Pod', withSpec({ containers: [c] })), [
    'spec.containers[0].lifecycle.preStop.exec.command: Required value',
    'spec.containers[0].lifecycle.preStop.sleep: Forbidden: may not specify more than 1 handler type',
    'spec.containers[0].livenessProbe.httpGet.port: Invalid value: "Bad_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1',
    'spec.containers[0].readinessProbe: Required value: must specify a handler type',
  ])
})

t.test('pod-level fields', async (t) => {
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], restartPolicy: 'Sometimes', dnsPolicy: 'Weird' })), [
    'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    'spec.dnsPolicy: Unsupported value: "Weird": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
  ])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], dnsPolicy: 'None' })), ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None'])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], nodeName: 'Node_1', hostname: 'a.b', activeDeadlineSeconds: 0 })), [
    'spec.nodeName: Invalid value: "Node_1": ' + "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
    'spec.hostname: Invalid value: "a.b": must not contain dots',
  ])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], tolerations: [{ operator: 'Equal', value: 'x' }, { key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }, { key: 'k', effect: 'Sometimes' }] })), [
    'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"',
    "spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
    'spec.tolerations[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
  ])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 80, hostPort: 81 }] }], hostNetwork: true })), [
    'spec.containers[0].ports[0].hostPort: Invalid value: 81: must match `containerPort` when `hostNetwork` is true',
  ])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } })), [
    'spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term',
  ])
  t.strictSame(createErrors('Pod', withSpec({ containers: [{ name: 'a', image: 'x' }], ephemeralContainers: [{ name: 'e', image: 'x' }] })), ['spec.ephemeralContainers: Forbidden: cannot be set on create'])
})

t.test('updates: only images, activeDeadlineSeconds and added tolerations may change', async (t) => {
  const old = stored(pod())
  const newImage = clone(old)
  ;((newImage.spec as Json).containers as Json[])[0].image = 'nginx:1.26'
  t.strictSame(updateErrors('Pod', old, newImage), [], 'image updates are allowed')

  const moreTolerations = clone(old)
  ;(moreTolerations.spec as Json).tolerations = [...((old.spec as Json).tolerations as Json[] | undefined ?? []), { key: 'k', operator: 'Exists', effect: 'NoExecute' }]
  t.strictSame(updateErrors('Pod', old, moreTolerations), [])

  const changed = clone(old)
  ;(changed.spec as Json).restartPolicy = 'Never'
  const errs = updateErrors('Pod', old, changed)
  t.equal(errs.length, 1)
  t.match(
    errs[0],
    /^spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`,`spec\.initContainers\[\*\]\.image`,`spec\.activeDeadlineSeconds`,`spec\.tolerations` \(only additions to existing tolerations\),`spec\.terminationGracePeriodSeconds` \(allow it to be set to 1 if it was previously negative\)\n/,
  )

  const added = clone(old)
  ;((added.spec as Json).containers as Json[]).push({ name: 'b', image: 'x' })
  t.strictSame(updateErrors('Pod', old, added), ['spec.containers: Forbidden: pod updates may not add or remove containers'])

  const deadline = clone(old)
  ;(deadline.spec as Json).activeDeadlineSeconds = 30
  const stricter = clone(deadline)
  ;(stricter.spec as Json).activeDeadlineSeconds = 60
  t.strictSame(updateErrors('Pod', deadline, stricter), ['spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value'])
})

t.test('QoS classes', async (t) => {
  const q = (resources: Json): string => computePodQOS(withSpec({ containers: [{ name: 'a', image: 'x', resources }] }))
  t.equal(q({}), 'BestEffort')
  t.equal(q({ requests: { cpu: '1' } }), 'Burstable')
  t.equal(q({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1000m', memory: '1Gi' } }), 'Guaranteed')
  t.equal(q({ limits: { cpu: '1', memory: '1Gi' } }), 'Burstable', 'before SetDefaults_Pod copies limits into requests')
  const defaulted = withSpec({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }] })
  applyDefaults(rt('Pod'), defaulted)
  t.equal(computePodQOS(defaulted), 'Guaranteed')
})
