// The CronJob controller against a real API server. No Job controller runs: a test
// finishes a Job by writing its status (Complete or Failed condition, start and
// completion times) as the Job controller would. Schedule time is a FakeClock the
// test moves minute by minute (the controller reads "now" from it), except for the
// first test, which runs `@every 1s` on the real clock.
/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read by path in assertions */
import t from 'tap'
import type { Test } from 'tap'
import { TimeZone } from '../../../src/api/cron-schedule.js'
import { metaTime } from '../../../src/api/time.js'
import { FakeClock, type KubeObject, type RestClient } from '../../../src/client/index.js'
import { cronJobControllerWith } from '../../../src/controllers/cronjob/controller.js'
import { SCHEDULED_TIMESTAMP_ANNOTATION } from '../../../src/controllers/cronjob/jobs.js'
import { CRONJOBS, EVENTS, eventually, gone, JOBS, settle, startCluster } from '../helpers.js'

const NS = 'default'

function cronJob(name: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '* * * * *',
      jobTemplate: {
        metadata: { labels: { app: name }, annotations: { note: 'from the template' } },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
      },
      ...spec,
    },
  }
}

/** A cluster whose CronJob controller reads schedule time from a FakeClock starting now. */
async function fakeTimeCluster(t: Test): Promise<{ client: RestClient; clock: FakeClock; now: () => number; stepTo: (ms: number) => void }> {
  const clock = new FakeClock()
  const base = Date.now()
  const now = (): number => base + clock.now()
  const { client } = await startCluster(t, ['cronjob'], { cronjob: cronJobControllerWith({ clock, now: () => new Date(now()), localZone: TimeZone.UTC }) })
  return { client, clock, now, stepTo: (ms) => clock.step(Math.max(0, ms - now())) }
}

/** The first whole minute after the CronJob was created: its first scheduled time for `* * * * *`. */
function firstMinute(cj: KubeObject): number {
  const created = Date.parse(cj.metadata!.creationTimestamp as string)
  return Math.floor(created / 60_000) * 60_000 + 60_000
}

const jobName = (cj: string, minute: number): string => `${cj}-${Math.floor(minute / 60_000)}`

async function ownedJobs(client: RestClient, cj: string): Promise<KubeObject[]> {
  return (await client.resource(JOBS, NS).list()).items.filter((j) => j.metadata?.ownerReferences?.some((r) => r.kind === 'CronJob' && r.name === cj))
}

async function jobNamed(client: RestClient, name: string): Promise<KubeObject> {
  return eventually(`job ${name}`, () => client.resource(JOBS, NS).get(name))
}

async function cronJobStatus(client: RestClient, name: string, what: string, ok: (status: any) => boolean): Promise<any> {
  return eventually(`cronjob ${name}: ${what}`, async () => {
    const status = (await client.resource(CRONJOBS, NS).get(name)).status as any
    return ok(status ?? {}) ? (status ?? {}) : undefined
  })
}

async function eventsOf(client: RestClient, name: string): Promise<any[]> {
  return ((await client.resource(EVENTS, NS).list()).items as any[]).filter((e) => e.involvedObject?.kind === 'CronJob' && e.involvedObject?.name === name)
}

async function event(client: RestClient, name: string, reason: string, message?: string | RegExp): Promise<any> {
  return eventually(`${reason} event on ${name}`, async () =>
    (await eventsOf(client, name)).find((e) => e.reason === reason && (message === undefined || (typeof message === 'string' ? e.message === message : message.test(e.message)))),
  )
}

/** Ends a Job as the Job controller would report it. */
async function finish(client: RestClient, name: string, type: 'Complete' | 'Failed', startTime: number, endTime: number): Promise<void> {
  const job = await client.resource(JOBS, NS).get(name)
  const cond = { type, status: 'True', lastProbeTime: metaTime(new Date(endTime)), lastTransitionTime: metaTime(new Date(endTime)), reason: type === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded', message: '' }
  const status: Record<string, unknown> = { startTime: metaTime(new Date(startTime)), conditions: [cond], ...(type === 'Complete' ? { completionTime: metaTime(new Date(endTime)), succeeded: 1 } : { failed: 1 }) }
  await client.resource(JOBS, NS).updateStatus({ ...job, status })
}

t.test('@every 1s: a Job named after its scheduled minute, owned by the CronJob, with the scheduled-timestamp annotation', async (t) => {
  const { client } = await startCluster(t, ['cronjob'], { cronjob: cronJobControllerWith() })
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('tick', { schedule: '@every 1s', timeZone: 'Asia/Kolkata' }))
  const [job] = await eventually('a job of tick', async () => {
    const jobs = await ownedJobs(client, 'tick')
    return jobs.length > 0 ? jobs : undefined
  })
  const stamp = job!.metadata!.annotations![SCHEDULED_TIMESTAMP_ANNOTATION]!
  t.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/, 'the scheduled time in the CronJob’s time zone')
  const scheduled = Date.parse(stamp)
  t.ok(scheduled > Date.parse(cj.metadata!.creationTimestamp as string), 'scheduled after the CronJob was created')
  t.equal(job!.metadata!.name, jobName('tick', scheduled), 'named <cronjob>-<minutes since the epoch>')
  t.strictSame(job!.metadata!.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata!.uid, controller: true, blockOwnerDeletion: true }])
  t.equal(job!.metadata!.labels!.app, 'tick', 'labels from the template')
  t.equal(job!.metadata!.annotations!.note, 'from the template', 'annotations from the template')
  t.equal((job!.spec as any).template.spec.containers[0].image, 'busybox', 'the spec from the template')

  const status = await cronJobStatus(client, 'tick', 'the job in status.active', (s) => (s.active ?? []).some((r: any) => r.uid === job!.metadata!.uid))
  t.match(status.active, [{ kind: 'Job', apiVersion: 'batch/v1', namespace: NS, name: job!.metadata!.name, uid: job!.metadata!.uid }])
  t.equal(Date.parse(status.lastScheduleTime), scheduled, 'lastScheduleTime is the scheduled time')
  await event(client, 'tick', 'SuccessfulCreate', `Created job ${job!.metadata!.name}`)
  await settle(1500)
  const jobs = await ownedJobs(client, 'tick')
  const minutesSpanned = Math.floor(Date.now() / 60_000) - Math.floor(scheduled / 60_000) + 1
  t.ok(jobs.length <= minutesSpanned, `later seconds of the same minute name the same Job (${jobs.length} jobs over ${minutesSpanned} minutes)`)
})

t.test('Forbid: no new Job while one runs; the skipped time starts once it finishes (no deadline)', async (t) => {
  const { client, now, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('forbid', { concurrencyPolicy: 'Forbid' }))
  const m0 = firstMinute(cj)
  await settle(300)
  t.equal((await ownedJobs(client, 'forbid')).length, 0, 'nothing before the first scheduled time')
  stepTo(m0 + 1000)
  await jobNamed(client, jobName('forbid', m0))
  await cronJobStatus(client, 'forbid', 'first job active', (s) => s.active?.length === 1)

  stepTo(m0 + 61_000)
  await event(client, 'forbid', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid')
  t.equal((await ownedJobs(client, 'forbid')).length, 1, 'still one Job')

  const end = now()
  await finish(client, jobName('forbid', m0), 'Complete', m0 + 2000, end)
  await event(client, 'forbid', 'SawCompletedJob', `Saw completed job: ${jobName('forbid', m0)}, condition: Complete`)
  await jobNamed(client, jobName('forbid', m0 + 60_000))
  const status = await cronJobStatus(client, 'forbid', 'second job active', (s) => s.active?.length === 1 && s.active[0].name === jobName('forbid', m0 + 60_000))
  t.equal(status.lastSuccessfulTime, metaTime(new Date(end)), 'lastSuccessfulTime is the Job’s completion time')
  t.equal(Date.parse(status.lastScheduleTime), m0 + 60_000)
})

t.test('Replace: the running Job is deleted and the new one created', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('replace', { concurrencyPolicy: 'Replace' }))
  const m0 = firstMinute(cj)
  stepTo(m0 + 1000)
  const first = await jobNamed(client, jobName('replace', m0))
  await cronJobStatus(client, 'replace', 'first job active', (s) => s.active?.length === 1)
  stepTo(m0 + 61_000)
  const second = await jobNamed(client, jobName('replace', m0 + 60_000))
  await gone(client, JOBS, NS, first.metadata!.name!)
  await event(client, 'replace', 'SuccessfulDelete', `Deleted job ${first.metadata!.name}`)
  const status = await cronJobStatus(client, 'replace', 'only the new job active', (s) => s.active?.length === 1 && s.active[0].uid === second.metadata!.uid)
  t.equal(status.active[0].name, second.metadata!.name)
})

t.test('Allow: a new Job each time, alongside the running ones', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('allow'))
  const m0 = firstMinute(cj)
  stepTo(m0 + 1000)
  await jobNamed(client, jobName('allow', m0))
  await cronJobStatus(client, 'allow', 'one active', (s) => s.active?.length === 1)
  stepTo(m0 + 61_000)
  await jobNamed(client, jobName('allow', m0 + 60_000))
  const status = await cronJobStatus(client, 'allow', 'two active', (s) => s.active?.length === 2)
  t.strictSame(status.active.map((r: any) => r.name).sort(), [jobName('allow', m0), jobName('allow', m0 + 60_000)].sort())
})

t.test('suspend stops new Jobs; resuming runs only the most recent missed time', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('paused', { suspend: true }))
  const m0 = firstMinute(cj)
  stepTo(m0 + 1000)
  stepTo(m0 + 61_000)
  stepTo(m0 + 121_000)
  await settle(500)
  t.equal((await ownedJobs(client, 'paused')).length, 0, 'no Job while suspended')
  const fresh = await client.resource(CRONJOBS, NS).get('paused')
  await client.resource(CRONJOBS, NS).update({ ...fresh, spec: { ...(fresh.spec as object), suspend: false } })
  await jobNamed(client, jobName('paused', m0 + 120_000))
  await settle(500)
  t.strictSame(
    (await ownedJobs(client, 'paused')).map((j) => j.metadata!.name),
    [jobName('paused', m0 + 120_000)],
    'the two earlier missed times are not run',
  )
})

t.test('startingDeadlineSeconds: a time missed by more than the deadline is not started', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('late', { suspend: true, startingDeadlineSeconds: 10 }))
  const m0 = firstMinute(cj)
  stepTo(m0 + 30_000)
  const fresh = await client.resource(CRONJOBS, NS).get('late')
  await client.resource(CRONJOBS, NS).update({ ...fresh, spec: { ...(fresh.spec as object), suspend: false } })
  await settle(1000)
  t.equal((await ownedJobs(client, 'late')).length, 0, 'the time 30 s ago is past a 10 s deadline')
  stepTo(m0 + 60_000 + 5000)
  await jobNamed(client, jobName('late', m0 + 60_000))
})

t.test('history limits: the oldest finished Jobs beyond them are deleted', async (t) => {
  const { client, now, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('history', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }))
  const m0 = firstMinute(cj)
  const minutes = [0, 1, 2, 3, 4].map((i) => m0 + i * 60_000)
  for (const m of minutes) {
    stepTo(m + 1000)
    await jobNamed(client, jobName('history', m))
    await cronJobStatus(client, 'history', `job at ${new Date(m).toISOString()} recorded`, (s) => Date.parse(s.lastScheduleTime) === m)
  }
  // Three succeed, two fail, each started just after its scheduled time.
  const end = now() + 10_000
  for (const [i, m] of minutes.entries()) await finish(client, jobName('history', m), i < 3 ? 'Complete' : 'Failed', m + 2000, end - (5 - i) * 1000)
  await gone(client, JOBS, NS, jobName('history', minutes[0]!))
  await gone(client, JOBS, NS, jobName('history', minutes[3]!))
  const left = (await ownedJobs(client, 'history')).map((j) => j.metadata!.name).sort()
  t.strictSame(left, [jobName('history', minutes[1]!), jobName('history', minutes[2]!), jobName('history', minutes[4]!)].sort(), 'two successful and one failed Job are kept')
  const status = await cronJobStatus(client, 'history', 'no active jobs', (s) => s.active === undefined || s.active.length === 0)
  t.equal(status.lastSuccessfulTime, metaTime(new Date(end - 3000)), 'lastSuccessfulTime from the latest successful Job')
  await event(client, 'history', 'SuccessfulDelete', `Deleted job ${jobName('history', minutes[0]!)}`)
  await event(client, 'history', 'SuccessfulDelete', `Deleted job ${jobName('history', minutes[3]!)}`)
})

t.test('an active Job deleted by someone else leaves status.active (MissingJob); a Job it did not make is reported (UnexpectedJob)', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('lost'))
  const m0 = firstMinute(cj)
  stepTo(m0 + 1000)
  const job = await jobNamed(client, jobName('lost', m0))
  await cronJobStatus(client, 'lost', 'job active', (s) => s.active?.length === 1)
  await client.resource(JOBS, NS).delete(job.metadata!.name!)
  await event(client, 'lost', 'MissingJob', `Active job went missing: ${job.metadata!.name}`)
  const status = await cronJobStatus(client, 'lost', 'no active jobs', (s) => s.active === undefined)
  t.equal(Date.parse(status.lastScheduleTime), m0, 'the scheduled time stays done: the Job is not made again')
  await settle(500)
  t.equal((await ownedJobs(client, 'lost')).length, 0)

  await client.resource(JOBS, NS).create({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'stray', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'lost', uid: cj.metadata!.uid!, controller: true }] },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
  })
  await event(client, 'lost', 'UnexpectedJob', 'Saw a job that the controller did not create or forgot: stray')
})

t.test('a Job made in an earlier term but not recorded is adopted into status.active, not made twice', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('resume', { suspend: true }))
  const m0 = firstMinute(cj)
  // What a previous leader left: the Job for m0 exists, the CronJob's status does not list it.
  await client.resource(JOBS, NS).create({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName('resume', m0), ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'resume', uid: cj.metadata!.uid!, controller: true, blockOwnerDeletion: true }] },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } },
  })
  stepTo(m0 + 1000)
  const fresh = await client.resource(CRONJOBS, NS).get('resume')
  await client.resource(CRONJOBS, NS).update({ ...fresh, spec: { ...(fresh.spec as object), suspend: false } })
  const status = await cronJobStatus(client, 'resume', 'the existing job recorded', (s) => s.active?.length === 1)
  t.equal(status.active[0].name, jobName('resume', m0))
  t.equal(Date.parse(status.lastScheduleTime), m0)
  t.equal((await ownedJobs(client, 'resume')).length, 1)
  t.notOk((await eventsOf(client, 'resume')).some((e) => e.reason === 'SuccessfulCreate'), 'no SuccessfulCreate: it was not created now')
})

t.test('more than 100 missed times: TooManyMissedTimes, and the latest one runs', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('behind', { suspend: true }))
  const m0 = firstMinute(cj)
  const latest = m0 + 200 * 60_000
  stepTo(latest + 1000)
  const fresh = await client.resource(CRONJOBS, NS).get('behind')
  await client.resource(CRONJOBS, NS).update({ ...fresh, spec: { ...(fresh.spec as object), suspend: false } })
  await event(client, 'behind', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew')
  await jobNamed(client, jobName('behind', latest))
  t.equal((await ownedJobs(client, 'behind')).length, 1, 'only the latest missed time')
})

t.test('a changed schedule takes effect at its own next time', async (t) => {
  const { client, stepTo } = await fakeTimeCluster(t)
  const cj = await client.resource(CRONJOBS, NS).create(cronJob('moved', { schedule: '0 0 1 1 *' }))
  const m0 = firstMinute(cj)
  await settle(300)
  const fresh = await client.resource(CRONJOBS, NS).get('moved')
  await client.resource(CRONJOBS, NS).update({ ...fresh, spec: { ...(fresh.spec as object), schedule: '* * * * *' } })
  await settle(300)
  stepTo(m0 + 1000)
  await jobNamed(client, jobName('moved', m0))
  t.pass('the new schedule woke the controller at the next minute')
})
