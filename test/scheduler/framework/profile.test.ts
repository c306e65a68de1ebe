// Profiles: the default plugin set and weights, KubeSchedulerConfiguration parsing and
// merging as kube-scheduler does it, and configuration errors that say where.
import t from 'tap'
import { defaultProfile, parseSchedulerConfig } from '../../../src/scheduler/framework/profile.js'
import type { Profile } from '../../../src/scheduler/framework/types.js'
import type { NodeResourcesFit } from '../../../src/scheduler/plugins/node-resources-fit.js'
import type { InterPodAffinity } from '../../../src/scheduler/plugins/inter-pod-affinity.js'

const filters = (p: Profile) => p.filters.map((f) => f.name)
const scores = (p: Profile) => p.scores.map((s) => `${s.plugin.name}:${s.weight}`)
const HEADER = 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n'

t.test('the default profile: upstream order and weights', async (t) => {
  const p = defaultProfile()
  t.equal(p.schedulerName, 'default-scheduler')
  t.equal(p.percentageOfNodesToScore, 0)
  t.same(filters(p), ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread', 'InterPodAffinity'])
  t.same(scores(p), ['TaintToleration:3', 'NodeAffinity:2', 'NodeResourcesFit:1', 'PodTopologySpread:2', 'InterPodAffinity:2', 'NodeResourcesBalancedAllocation:1'])
  const fit = p.filters.find((f) => f.name === 'NodeResourcesFit')
  t.equal(fit, p.scores.find((s) => s.plugin.name === 'NodeResourcesFit')?.plugin, 'one instance for filter and score')
  t.equal((fit as NodeResourcesFit).strategy, 'LeastAllocated')
})

t.test('no profiles: one default profile, with the global percentageOfNodesToScore', async (t) => {
  const [p, ...rest] = parseSchedulerConfig(`${HEADER}percentageOfNodesToScore: 30\n`)
  t.equal(rest.length, 0)
  t.equal(p.schedulerName, 'default-scheduler')
  t.equal(p.percentageOfNodesToScore, 30)
  t.same(scores(p), scores(defaultProfile()))
})

t.test('bin packing: MostAllocated with resource weights, a second profile', async (t) => {
  const yaml = `${HEADER}
percentageOfNodesToScore: 20
profiles:
  - schedulerName: default-scheduler
  - schedulerName: bin-packing
    percentageOfNodesToScore: 50
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
            resources:
              - name: cpu
                weight: 2
              - name: memory
                weight: 1
`
  const [a, b] = parseSchedulerConfig(yaml)
  t.equal(a.percentageOfNodesToScore, 20)
  t.equal(b.schedulerName, 'bin-packing')
  t.equal(b.percentageOfNodesToScore, 50)
  const fit = b.scores.find((s) => s.plugin.name === 'NodeResourcesFit')!.plugin as NodeResourcesFit
  t.equal(fit.strategy, 'MostAllocated')
  t.same(fit.resources, [
    { name: 'cpu', weight: 2 },
    { name: 'memory', weight: 1 },
  ])
  t.equal((a.scores.find((s) => s.plugin.name === 'NodeResourcesFit')!.plugin as NodeResourcesFit).strategy, 'LeastAllocated')
})

t.test('score: disable all, enable one with a weight; JSON objects work too', async (t) => {
  const [p] = parseSchedulerConfig({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    profiles: [{ schedulerName: 'x', plugins: { score: { disabled: [{ name: '*' }], enabled: [{ name: 'NodeResourcesFit', weight: 5 }] } } }],
  })
  t.same(scores(p), ['NodeResourcesFit:5'])
  t.same(filters(p), filters(defaultProfile()), 'filters untouched')
})

t.test('re-weighting a default in place, disabling one, multiPoint', async (t) => {
  const [p] = parseSchedulerConfig({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    profiles: [
      {
        schedulerName: 'x',
        plugins: {
          score: { enabled: [{ name: 'NodeAffinity', weight: 7 }], disabled: [{ name: 'NodeResourcesBalancedAllocation' }] },
          filter: { disabled: [{ name: 'NodePorts' }] },
          multiPoint: { disabled: [{ name: 'InterPodAffinity' }] },
        },
      },
    ],
  })
  // An explicitly configured plugin comes first (upstream's "override" ordering).
  t.same(scores(p), ['NodeAffinity:7', 'TaintToleration:3', 'NodeResourcesFit:1', 'PodTopologySpread:2'])
  t.same(filters(p), ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'VolumeBinding', 'PodTopologySpread'])
})

t.test('plugin args: InterPodAffinity, BalancedAllocation, RequestedToCapacityRatio', async (t) => {
  const [p] = parseSchedulerConfig({
    apiVersion: 'kubescheduler.config.k8s.io/v1',
    kind: 'KubeSchedulerConfiguration',
    profiles: [
      {
        schedulerName: 'x',
        pluginConfig: [
          { name: 'InterPodAffinity', args: { hardPodAffinityWeight: 5 } },
          { name: 'NodeResourcesBalancedAllocation', args: { resources: [{ name: 'cpu', weight: 1 }, { name: 'memory', weight: 1 }, { name: 'example.com/gpu', weight: 1 }] } },
          { name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'RequestedToCapacityRatio', requestedToCapacityRatio: { shape: [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }] } } } },
          { name: 'DefaultPreemption', args: { minCandidateNodesPercentage: 10 } },
        ],
      },
    ],
  })
  t.equal((p.filters.find((f) => f.name === 'InterPodAffinity') as InterPodAffinity).hardPodAffinityWeight, 5)
  t.equal((p.filters.find((f) => f.name === 'NodeResourcesFit') as NodeResourcesFit).strategy, 'RequestedToCapacityRatio')
})

t.test('upstream plugins we do not model may be named', async (t) => {
  const [p] = parseSchedulerConfig(`${HEADER}profiles:
  - schedulerName: x
    plugins:
      score:
        disabled:
          - name: ImageLocality
      filter:
        disabled:
          - name: VolumeBinding
`)
  t.same(scores(p), scores(defaultProfile()))
})

t.test('errors name the field', async (t) => {
  const cfg = (body: string) => () => parseSchedulerConfig(HEADER + body)
  t.throws(() => parseSchedulerConfig('apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n'), /apiVersion: Unsupported value: "kubescheduler.config.k8s.io\/v1beta3"/)
  t.throws(() => parseSchedulerConfig('{'), /not valid YAML/)
  t.throws(cfg('bogus: 1\n'), /unknown field "bogus"/)
  t.throws(cfg('percentageOfNodesToScore: 101\n'), /percentageOfNodesToScore: Invalid value: 101: not in valid range \[0-100\]/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n  - schedulerName: a\n'), /profiles\[1\]\.schedulerName: Duplicate value: "a"/)
  t.throws(cfg('profiles:\n  - plugins: {}\n'), /profiles\[0\]\.schedulerName: Required value/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n    plugins:\n      score:\n        enabled:\n          - name: NodeResourcesFitt\n'), /profiles\[0\]\.plugins\.score\.enabled\[0\]\.name: plugin "NodeResourcesFitt" does not exist/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n    plugins:\n      filter:\n        enabled:\n          - name: NodeResourcesBalancedAllocation\n'), /does not extend the filter extension point/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n    plugins:\n      score:\n        enabled:\n          - name: NodeAffinity\n            weight: -1\n'), /weight: Invalid value: -1/)
  t.throws(
    cfg('profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: NodeResourcesFit\n        args:\n          scoringStrategy:\n            type: Fancy\n'),
    /profiles\[0\]\.pluginConfig\[0\]\.args\.scoringStrategy\.type: Unsupported value: "Fancy": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"/,
  )
  t.throws(
    cfg('profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: NodeResourcesFit\n        args:\n          scoringStrategy:\n            resources:\n              - name: cpu\n                weight: 0\n'),
    /resources\[0\]\.weight: Invalid value: 0: resource weight of cpu should be in range \[1, 100\]/,
  )
  t.throws(cfg('profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: NodeResourcesFit\n        args:\n          scoringStrategy:\n            type: RequestedToCapacityRatio\n'), /requestedToCapacityRatio: Required value/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: InterPodAffinity\n        args:\n          hardPodAffinityWeight: 101\n'), /hardPodAffinityWeight: Invalid value: 101/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: NodePorts\n        args:\n          x: 1\n'), /pluginConfig\[0\]\.args: unknown field "x"/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: Nope\n'), /pluginConfig\[0\]\.name: plugin "Nope" does not exist/)
  t.throws(cfg('profiles:\n  - schedulerName: a\n    pluginConfig:\n      - name: NodePorts\n      - name: NodePorts\n'), /pluginConfig\[1\]\.name: Duplicate value/)
  t.throws(cfg('extenders:\n  - urlPrefix: http://x\n'), /extenders are not supported/)
})
