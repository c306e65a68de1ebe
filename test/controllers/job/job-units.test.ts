// The Job controller's pure parts: completion indexes, pod failure policy verdicts,
// the pods it makes, conditions, and when a finished Job expires.
import t from 'tap'
import { formatIndexes, parseIndexes, pendingIndexes, podIndex } from '../../../src/controllers/job/indexes.js'
import { judgeFailure } from '../../../src/controllers/job/pod-failure-policy.js'
import { hasTrackingFinalizer, jobPod } from '../../../src/controllers/job/pods.js'
import { conditionTrue, type JobStatus, setCondition } from '../../../src/controllers/job/status.js'
import { expiresAt } from '../../../src/controllers/job/ttl-after-finished.js'

t.test('completed indexes as intervals', async (t) => {
  t.equal(formatIndexes([5, 1, 3, 4, 7, 3]), '1,3-5,7')
  t.equal(formatIndexes([]), '')
  t.strictSame([...parseIndexes('1,3-5,7', 10)].sort(), [1, 3, 4, 5, 7])
  t.strictSame([...parseIndexes('1,3-5,7', 4)].sort(), [1, 3], 'indexes past completions are dropped')
  t.strictSame([...parseIndexes('x,2', 4)], [2], 'junk is ignored')
  t.strictSame(pendingIndexes(6, new Set([0, 2]), new Set([1]), 2), [3, 4])
  const pod = (v: string): { metadata: { annotations: Record<string, string> } } => ({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': v } } })
  t.equal(podIndex(pod('2'), 3), 2)
  t.equal(podIndex(pod('3'), 3), undefined, 'out of range')
  t.equal(podIndex(pod('01'), 3), undefined, 'not canonical')
  t.equal(podIndex({ metadata: {} }, 3), undefined)
})

t.test('pod failure policy: first matching rule wins', async (t) => {
  const policy = {
    rules: [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1] } },
    ],
  }
  const failed = (code: number, name = 'main', conditions: unknown[] = []): Record<string, unknown> => ({
    metadata: { name: 'p', namespace: 'ns' },
    status: { phase: 'Failed', conditions, containerStatuses: [{ name, state: { terminated: { exitCode: code } } }] },
  })
  t.strictSame(judgeFailure(policy, failed(42)), { action: 'FailJob', message: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1' })
  t.equal(judgeFailure(policy, failed(42, 'side')).action, 'Count', 'the rule names another container')
  t.equal(judgeFailure(policy, failed(1)).action, 'Count', 'no rule matches: counted')
  t.equal(judgeFailure(policy, failed(1, 'main', [{ type: 'DisruptionTarget', status: 'True' }])).action, 'Ignore')
  t.equal(judgeFailure(undefined, failed(42)).action, 'Count', 'no policy')
  t.equal(judgeFailure({ rules: [{ action: 'FailJob', onExitCodes: { operator: 'NotIn', values: [5] } }] }, failed(0)).action, 'Count', 'exit code 0 never matches')
})

t.test('job pods carry the finalizer and, when indexed, their index', async (t) => {
  const ref = { apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'u', controller: true, blockOwnerDeletion: true }
  const template = { metadata: { labels: { 'job-name': 'pi' } }, spec: { containers: [{ name: 'c', image: 'x', env: [{ name: 'A', value: 'b' }] }], restartPolicy: 'Never' } }
  const plain = jobPod(template, 'pi', ref, undefined)
  t.ok(hasTrackingFinalizer(plain))
  t.equal(plain.metadata!.generateName, 'pi-')
  t.equal((plain.spec as { hostname?: string }).hostname, undefined)
  const indexed = jobPod(template, 'pi', ref, 2)
  t.equal(indexed.metadata!.generateName, 'pi-2-')
  t.equal(indexed.metadata!.annotations!['batch.kubernetes.io/job-completion-index'], '2')
  t.equal(indexed.metadata!.labels!['batch.kubernetes.io/job-completion-index'], '2')
  t.equal((indexed.spec as { hostname?: string }).hostname, 'pi-2')
  t.strictSame((indexed.spec as { containers: { env: unknown[] }[] }).containers[0]!.env, [
    { name: 'A', value: 'b' },
    { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
  ])
  t.equal(template.spec.containers[0]!.env.length, 1, 'the template is untouched')
})

t.test('conditions: transition time moves only on a status flip', async (t) => {
  const s: JobStatus = {}
  setCondition(s, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, new Date('2026-01-01T00:00:00Z'))
  t.ok(conditionTrue(s, 'Suspended'))
  setCondition(s, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, new Date('2026-01-01T00:01:00Z'))
  t.equal(s.conditions![0]!.lastTransitionTime, '2026-01-01T00:00:00Z')
  setCondition(s, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, new Date('2026-01-01T00:02:00Z'))
  t.equal(s.conditions![0]!.lastTransitionTime, '2026-01-01T00:02:00Z')
  t.notOk(conditionTrue(s, 'Suspended'))
})

t.test('ttl: expiry counts from the finish condition', async (t) => {
  const job = (ttl: number | undefined, conditions: unknown[]): Record<string, unknown> => ({ metadata: { name: 'j' }, spec: { ttlSecondsAfterFinished: ttl }, status: { conditions } })
  const done = [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }]
  t.equal(expiresAt(job(10, done)), Date.parse('2026-01-01T00:00:10Z'))
  t.equal(expiresAt(job(undefined, done)), undefined)
  t.equal(expiresAt(job(10, [])), undefined, 'not finished')
  t.equal(expiresAt(job(0, [{ type: 'Failed', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }])), Date.parse('2026-01-01T00:00:00Z'))
})
