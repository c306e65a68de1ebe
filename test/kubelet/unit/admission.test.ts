// Pod admission on the node: resources against the pods admitted before, node
// affinity, host ports, NoExecute taints, with upstream's reasons and messages.
import t from 'tap'
import { parseResourceList } from '../../../src/api/resource-list.js'
import { admitPod, type AdmissionNode } from '../../../src/kubelet/admission.js'
import type { KubeObject } from '../../../src/client/index.js'

const node: AdmissionNode = {
  name: 'n1',
  labels: { 'kubernetes.io/os': 'linux', zone: 'a' },
  taints: [],
  allocatable: parseResourceList({ cpu: '2', memory: '4Gi', pods: '3', 'ephemeral-storage': '10Gi', 'example.com/gpu': '1' }),
}

function pod(requests: Record<string, string> = {}, spec: Record<string, unknown> = {}, labels?: Record<string, string>): KubeObject {
  return { metadata: { name: 'p', ...(labels === undefined ? {} : { labels }) }, spec: { nodeName: 'n1', containers: [{ name: 'c', resources: { requests } }], ...spec } }
}

t.test('resources: cpu in millicores, memory in bytes, counted against the pods admitted before', async (t) => {
  t.same(admitPod(pod({ cpu: '1' }), node, [pod({ cpu: '500m' })]), { admit: true })
  t.same(admitPod(pod({ cpu: '2' }), node, [pod({ cpu: '500m' })]), {
    admit: false,
    reason: 'OutOfcpu',
    message: "Node didn't have enough resource: cpu, requested: 2000, used: 500, capacity: 2000",
  })
  t.same(admitPod(pod({ memory: '5Gi' }), node, []), {
    admit: false,
    reason: 'OutOfmemory',
    message: `Node didn't have enough resource: memory, requested: ${5 * 2 ** 30}, used: 0, capacity: ${4 * 2 ** 30}`,
  })
  t.match(admitPod(pod({ 'ephemeral-storage': '11Gi' }), node, []), { reason: 'OutOfephemeral-storage' })
  t.match(admitPod(pod({ 'example.com/gpu': '2' }), node, []), { reason: 'OutOfexample.com/gpu' })
  t.same(admitPod(pod({ 'other.com/fpga': '2' }), node, []), { admit: true }, 'an extended resource the node does not know is not checked here')
  t.same(admitPod(pod(), node, [pod(), pod(), pod()]), {
    admit: false,
    reason: 'OutOfpods',
    message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3",
  })
})

t.test('init containers and overhead count as the scheduler counts them', async (t) => {
  const withInit = pod({ cpu: '100m' }, { initContainers: [{ name: 'i', resources: { requests: { cpu: '2500m' } } }] })
  t.match(admitPod(withInit, node, []), { reason: 'OutOfcpu', message: /requested: 2500,/ })
  const withOverhead = pod({ cpu: '1900m' }, { overhead: { cpu: '200m' } })
  t.match(admitPod(withOverhead, node, []), { reason: 'OutOfcpu', message: /requested: 2100,/ })
})

t.test('node affinity, host ports and NoExecute taints', async (t) => {
  t.same(admitPod(pod({}, { nodeSelector: { zone: 'b' } }), node, []), {
    admit: false,
    reason: 'NodeAffinity',
    message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
  })
  t.same(admitPod(pod({}, { nodeSelector: { zone: 'a' } }), node, []), { admit: true })
  const withPort = (hostPort: number, hostIP?: string) => pod({}, { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort, ...(hostIP === undefined ? {} : { hostIP }) }] }] })
  t.same(admitPod(withPort(8080), node, [withPort(8080)]), {
    admit: false,
    reason: 'NodePorts',
    message: "Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports",
  })
  t.same(admitPod(withPort(8080, '10.0.0.1'), node, [withPort(8080, '10.0.0.2')]), { admit: true }, 'different host IPs')
  t.same(admitPod(withPort(8081), node, [withPort(8080)]), { admit: true })
  const tainted: AdmissionNode = { ...node, taints: [{ key: 'gone', value: '', effect: 'NoExecute' }, { key: 'soft', value: '', effect: 'NoSchedule' }] }
  t.same(admitPod(pod(), tainted, []), {
    admit: false,
    reason: 'TaintToleration',
    message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
  })
  t.same(admitPod(pod({}, { tolerations: [{ key: 'gone', operator: 'Exists' }] }), tainted, []), { admit: true }, 'NoSchedule taints are the scheduler’s business')
})

t.test('the OS: a pod asking for another one is refused', async (t) => {
  t.match(admitPod(pod({}, {}, { 'kubernetes.io/os': 'windows' }), node, []), { reason: 'PodOSSelectorNodeLabelDoesNotMatch' })
  t.match(admitPod(pod({}, { os: { name: 'windows' } }), node, []), { reason: 'PodOSNotSupported' })
})
