// The Job controller against a real API server (no kubelet: the test finishes pods
// by writing their status, as a kubelet would): completions and parallelism, Indexed
// mode, backoffLimit, activeDeadlineSeconds, podFailurePolicy, suspend, the tracking
// finalizer, cascading deletion and ttlSecondsAfterFinished.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { KubeObject, RestClient } from '../../../src/client/index.js'
import { jobControllerWith } from '../../../src/controllers/job/controller.js'
import { ttlAfterFinishedController } from '../../../src/controllers/job/ttl-after-finished.js'
import { EVENTS, eventually, gone, JOBS, PODS, startCluster } from '../helpers.js'

const extra = { job: jobControllerWith({ backoffBaseMs: 100, backoffMaxMs: 400 }), 'ttl-after-finished': ttlAfterFinishedController }

function job(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox' }], restartPolicy: 'Never' } }, ...spec },
  }
}

async function jobPods(client: RestClient, name: string): Promise<KubeObject[]> {
  return (await client.resource(PODS, 'default').list({ labelSelector: `batch.kubernetes.io/job-name=${name}` })).items
}

const running = (pods: KubeObject[]): KubeObject[] => pods.filter((p) => (p.status as any)?.phase !== 'Succeeded' && (p.status as any)?.phase !== 'Failed' && p.metadata?.deletionTimestamp === undefined)

/** Ends the pod as its kubelet would report it. */
async function finish(client: RestClient, pod: KubeObject, exitCode: number): Promise<void> {
  const phase = exitCode === 0 ? 'Succeeded' : 'Failed'
  const fresh = await client.resource(PODS, 'default').get(pod.metadata!.name!)
  await client.resource(PODS, 'default').updateStatus({
    ...fresh,
    status: { ...(fresh.status as object), phase, containerStatuses: [{ name: 'main', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } } }] },
  })
}

async function waitActive(client: RestClient, name: string, n: number): Promise<KubeObject[]> {
  return eventually(`${n} running pods of ${name}`, async () => {
    const pods = running(await jobPods(client, name))
    return pods.length === n ? pods : undefined
  })
}

async function condition(client: RestClient, name: string, type: string): Promise<any> {
  return eventually(`${type} on job ${name}`, async () => {
    const j = await client.resource(JOBS, 'default').get(name)
    const c = ((j.status as any)?.conditions ?? []).find((x: any) => x.type === type && x.status === 'True')
    return c === undefined ? undefined : { job: j, condition: c }
  })
}

t.test('completions and parallelism: runs pods until enough succeed', async (t) => {
  const { client } = await startCluster(t, ['job'], extra)
  await client.resource(JOBS, 'default').create(job('pi', { completions: 3, parallelism: 2 }))
  let pods = await waitActive(client, 'pi', 2)
  const p0 = pods[0]!
  t.strictSame(p0.metadata!.finalizers, ['batch.kubernetes.io/job-tracking'], 'pods carry the tracking finalizer')
  t.match(p0.metadata!.ownerReferences, [{ kind: 'Job', name: 'pi', controller: true, blockOwnerDeletion: true }])
  t.match(p0.metadata!.generateName, 'pi-')

  for (let done = 0; done < 3; done++) {
    pods = running(await jobPods(client, 'pi'))
    await finish(client, pods[0]!, 0)
    await eventually(`succeeded=${done + 1}`, async () => ((await client.resource(JOBS, 'default').get('pi')).status as any)?.succeeded === done + 1 || undefined)
    if (done < 2) await waitActive(client, 'pi', Math.min(2, 3 - done - 1))
  }
  const { job: finished, condition: complete } = await condition(client, 'pi', 'Complete')
  const s = finished.status as any
  t.match(complete, { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' })
  t.ok(s.conditions.some((c: any) => c.type === 'SuccessCriteriaMet' && c.status === 'True'), 'SuccessCriteriaMet comes first')
  t.equal(s.succeeded, 3)
  t.equal(s.active, 0)
  t.ok(s.startTime !== undefined && s.completionTime !== undefined)
  t.strictSame(s.uncountedTerminatedPods, {})
  for (const p of await jobPods(client, 'pi')) t.strictSame(p.metadata!.finalizers ?? [], [], `${p.metadata!.name}: finalizer removed once counted`)
  const events = (await client.resource(EVENTS, 'default').list()).items.filter((e: any) => e.involvedObject.name === 'pi')
  t.ok(events.some((e: any) => e.reason === 'SuccessfulCreate'))
  t.ok(events.some((e: any) => e.reason === 'Completed' && e.message === 'Job completed'))
})

t.test('backoffLimit: failures past the limit fail the job', async (t) => {
  const { client } = await startCluster(t, ['job'], extra)
  await client.resource(JOBS, 'default').create(job('flaky', { backoffLimit: 1 }))
  for (let i = 0; i < 2; i++) {
    const [p] = await waitActive(client, 'flaky', 1)
    await finish(client, p!, 1)
    await eventually(`failed=${i + 1}`, async () => ((await client.resource(JOBS, 'default').get('flaky')).status as any)?.failed === i + 1 || undefined)
  }
  const { job: j, condition: c } = await condition(client, 'flaky', 'Failed')
  t.match(c, { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' })
  t.ok((j.status as any).conditions.some((x: any) => x.type === 'FailureTarget'))
  t.equal((j.status as any).failed, 2)
  t.equal(running(await jobPods(client, 'flaky')).length, 0, 'no replacement after the limit')
})

t.test('activeDeadlineSeconds: a job running too long fails and its pods are removed', async (t) => {
  const { client } = await startCluster(t, ['job'], extra)
  await client.resource(JOBS, 'default').create(job('slow', { activeDeadlineSeconds: 1, parallelism: 2, completions: 4 }))
  await waitActive(client, 'slow', 2)
  const { condition: c } = await condition(client, 'slow', 'Failed')
  t.match(c, { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' })
  await eventually('pods gone', async () => ((await jobPods(client, 'slow')).length === 0 ? true : undefined))
})

t.test('podFailurePolicy: FailJob on an exit code, Ignore on a condition', async (t) => {
  const { client } = await startCluster(t, ['job'], extra)
  const policy = {
    rules: [
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      { action: 'Ignore', onExitCodes: { operator: 'In', values: [7] } },
    ],
  }
  await client.resource(JOBS, 'default').create(job('strict', { podFailurePolicy: policy, backoffLimit: 0 }))
  let [p] = await waitActive(client, 'strict', 1)
  await finish(client, p!, 7)
  // Ignored: not counted (backoffLimit 0 would otherwise fail the job), and replaced.
  ;[p] = await eventually('a replacement', async () => {
    const pods = running(await jobPods(client, 'strict'))
    return pods.length === 1 && pods[0]!.metadata!.name !== p!.metadata!.name ? pods : undefined
  })
  t.equal(((await client.resource(JOBS, 'default').get('strict')).status as any).failed ?? 0, 0, 'an ignored failure is not counted')
  await finish(client, p!, 42)
  const { condition: c } = await condition(client, 'strict', 'Failed')
  t.match(c, { reason: 'PodFailurePolicy', message: /^Container main for pod default\/strict-\w+ failed with exit code 42 matching FailJob rule at index 0$/ })
})

t.test('Indexed: one pod per index, completedIndexes, a failed index retried', async (t) => {
  const { client } = await startCluster(t, ['job'], extra)
  await client.resource(JOBS, 'default').create(job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed', backoffLimit: 3 }))
  let pods = await waitActive(client, 'idx', 3)
  const indexOf = (p: KubeObject): string => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index']!
  t.strictSame(pods.map(indexOf).sort(), ['0', '1', '2'])
  const one = pods.find((p) => indexOf(p) === '1')!
  t.equal((one.spec as any).hostname, 'idx-1')
  t.match(one.metadata!.name, /^idx-1-/)
  await finish(client, one, 0)
  await eventually('completedIndexes 1', async () => ((await client.resource(JOBS, 'default').get('idx')).status as any)?.completedIndexes === '1' || undefined)
  const zero = pods.find((p) => indexOf(p) === '0')!
  await finish(client, zero, 1)
  pods = await eventually('index 0 retried', async () => {
    const r = running(await jobPods(client, 'idx'))
    return r.length === 2 && r.some((p) => indexOf(p) === '0' && p.metadata!.name !== zero.metadata!.name) ? r : undefined
  })
  for (const p of pods) await finish(client, p, 0)
  const { job: j } = await condition(client, 'idx', 'Complete')
  t.equal((j.status as any).completedIndexes, '0-2')
  t.equal((j.status as any).succeeded, 3)
  t.equal((j.status as any).failed, 1)
})

t.test('work queue (no completions): done when one succeeded and the rest finished', async (t) => {
  const { client } = await startCluster(t, ['job'], extra)
  await client.resource(JOBS, 'default').create(job('queue', { parallelism: 2, completions: null }))
  const pods = await waitActive(client, 'queue', 2)
  await finish(client, pods[0]!, 0)
  await eventually('succeeded 1', async () => ((await client.resource(JOBS, 'default').get('queue')).status as any)?.succeeded === 1 || undefined)
  t.equal(running(await jobPods(client, 'queue')).length, 1, 'no new pod once one has succeeded')
  await finish(client, pods[1]!, 0)
  const { job: j } = await condition(client, 'queue', 'Complete')
  t.equal((j.status as any).succeeded, 2)
})

t.test('suspend: no pods while suspended; resume starts them', async (t) => {
  const { client } = await startCluster(t, ['job'], extra)
  await client.resource(JOBS, 'default').create(job('later', { suspend: true, parallelism: 2, completions: 2 }))
  const { condition: c } = await condition(client, 'later', 'Suspended')
  t.match(c, { reason: 'JobSuspended', message: 'Job suspended' })
  t.equal((await jobPods(client, 'later')).length, 0)
  await client.resource(JOBS, 'default').patch('later', 'merge', { spec: { suspend: false } })
  await waitActive(client, 'later', 2)
  const j = await client.resource(JOBS, 'default').get('later')
  t.match((j.status as any).conditions.find((x: any) => x.type === 'Suspended'), { status: 'False', reason: 'JobResumed' })
  t.ok((j.status as any).startTime !== undefined)
  await client.resource(JOBS, 'default').patch('later', 'merge', { spec: { suspend: true } })
  await eventually('pods removed on suspend', async () => (running(await jobPods(client, 'later')).length === 0 ? true : undefined))
})

t.test('deleting a job frees its pods of the finalizer so they go with it', async (t) => {
  const { client } = await startCluster(t, ['job', 'garbagecollector'], extra)
  await client.resource(JOBS, 'default').create(job('gone', { parallelism: 2, completions: 2 }))
  const pods = await waitActive(client, 'gone', 2)
  await client.resource(JOBS, 'default').delete('gone', { propagationPolicy: 'Background' })
  for (const p of pods) await gone(client, PODS, 'default', p.metadata!.name!)
  t.pass('pods deleted')
})

t.test('ttlSecondsAfterFinished deletes a finished job', async (t) => {
  const { client } = await startCluster(t, ['job', 'ttl-after-finished', 'garbagecollector'], extra)
  await client.resource(JOBS, 'default').create(job('brief', { ttlSecondsAfterFinished: 1 }))
  const [p] = await waitActive(client, 'brief', 1)
  await finish(client, p!, 0)
  await condition(client, 'brief', 'Complete')
  await gone(client, JOBS, 'default', 'brief')
  await gone(client, PODS, 'default', p!.metadata!.name!)
  t.pass('job and pod deleted after the TTL')
})
