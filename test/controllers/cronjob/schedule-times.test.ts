// Which scheduled time a CronJob owes a Job for, and when it is looked at again (pure
// logic of the CronJob controller), plus the Job it makes for that time.
import t from 'tap'
import { parseSchedule, TimeZone } from '../../../src/api/cron-schedule.js'
import type { KubeObject } from '../../../src/client/index.js'
import { byStartTime, finishedCondition, jobFromTemplate, SCHEDULED_TIMESTAMP_ANNOTATION } from '../../../src/controllers/cronjob/jobs.js'
import { jobNameFor, mostRecentScheduleTime, nextScheduleDelay, nextScheduleTime } from '../../../src/controllers/cronjob/schedule-times.js'

const at = (s: string): number => Date.parse(s)
const hourly = parseSchedule('0 * * * *', TimeZone.UTC)
const created = at('2016-05-19T09:30:00Z')

t.test('nothing is due before the first scheduled time', async (t) => {
  t.strictSame(mostRecentScheduleTime({ creationTimestamp: created }, at('2016-05-19T09:59:59Z'), hourly, true), { earliest: created, missed: 'none' })
  t.strictSame(nextScheduleTime({ creationTimestamp: created }, at('2016-05-19T09:59:59Z'), hourly), { tooManyMissed: false })
})

t.test('the time just passed is due', async (t) => {
  const r = mostRecentScheduleTime({ creationTimestamp: created }, at('2016-05-19T10:00:30Z'), hourly, true)
  t.strictSame(r, { earliest: created, mostRecent: at('2016-05-19T10:00:00Z'), missed: 'none' })
})

t.test('of several missed times only the most recent is due', async (t) => {
  const now = at('2016-05-19T12:30:00Z')
  t.strictSame(mostRecentScheduleTime({ creationTimestamp: created }, now, hourly, true), { earliest: created, mostRecent: at('2016-05-19T12:00:00Z'), missed: 'few' })
  t.strictSame(nextScheduleTime({ creationTimestamp: created }, now, hourly), { scheduledTime: at('2016-05-19T12:00:00Z'), tooManyMissed: false })
})

t.test('times up to lastScheduleTime are done', async (t) => {
  const state = { creationTimestamp: created, lastScheduleTime: at('2016-05-19T11:00:00Z') }
  t.strictSame(nextScheduleTime(state, at('2016-05-19T11:30:00Z'), hourly), { tooManyMissed: false })
  t.strictSame(nextScheduleTime(state, at('2016-05-19T12:00:01Z'), hourly), { scheduledTime: at('2016-05-19T12:00:00Z'), tooManyMissed: false })
})

t.test('startingDeadlineSeconds: times older than the deadline are not due', async (t) => {
  const now = at('2016-05-19T12:30:00Z')
  const state = { creationTimestamp: created, lastScheduleTime: at('2016-05-19T10:00:00Z') }
  t.strictSame(nextScheduleTime({ ...state, startingDeadlineSeconds: 600 }, now, hourly), { tooManyMissed: false }, '12:00 is 30 minutes late, beyond a 10-minute deadline')
  t.strictSame(nextScheduleTime({ ...state, startingDeadlineSeconds: 3600 }, now, hourly), { scheduledTime: at('2016-05-19T12:00:00Z'), tooManyMissed: false })
  t.strictSame(
    mostRecentScheduleTime({ ...state, startingDeadlineSeconds: 600 }, now, hourly, false),
    { earliest: state.lastScheduleTime, mostRecent: at('2016-05-19T12:00:00Z'), missed: 'few' },
    'the requeue computation ignores the deadline',
  )
})

t.test('more than 100 missed times are reported, and the latest still runs', async (t) => {
  const everyMinute = parseSchedule('* * * * *', TimeZone.UTC)
  const now = at('2016-05-20T09:30:30Z')
  t.strictSame(nextScheduleTime({ creationTimestamp: created }, now, everyMinute), { scheduledTime: at('2016-05-20T09:30:00Z'), tooManyMissed: true })
  const few = nextScheduleTime({ creationTimestamp: created }, at('2016-05-19T11:00:30Z'), everyMinute)
  t.strictSame(few, { scheduledTime: at('2016-05-19T11:00:00Z'), tooManyMissed: false }, '90 missed is not too many')
})

t.test('an irregular schedule still finds its latest missed time', async (t) => {
  // 06:30, 10:30 and 14:30 on weekdays; created on a Friday evening, looked at on Monday.
  const s = parseSchedule('30 6-16/4 * * 1-5', TimeZone.UTC)
  const r = nextScheduleTime({ creationTimestamp: at('2016-05-20T15:00:00Z') }, at('2016-05-23T11:00:00Z'), s)
  t.strictSame(r, { scheduledTime: at('2016-05-23T10:30:00Z'), tooManyMissed: false })
})

t.test('@every counts from the creation time', async (t) => {
  const s = parseSchedule('@every 1h', TimeZone.UTC)
  t.strictSame(nextScheduleTime({ creationTimestamp: created }, at('2016-05-19T12:45:00Z'), s), { scheduledTime: at('2016-05-19T12:30:00Z'), tooManyMissed: false })
})

t.test('a schedule that never fires twice is an error', async (t) => {
  const feb30 = parseSchedule('0 0 30 2 *', TimeZone.UTC)
  t.strictSame(nextScheduleTime({ creationTimestamp: created }, at('2016-05-19T12:45:00Z'), feb30), { tooManyMissed: false, error: 'time difference between two schedules is less than 1 second' })
})

t.test('the next sync comes just after the next scheduled time', async (t) => {
  t.equal(nextScheduleDelay({ creationTimestamp: created }, at('2016-05-19T09:45:00Z'), hourly), 15 * 60_000 + 100, 'from the creation time')
  t.equal(nextScheduleDelay({ creationTimestamp: created, lastScheduleTime: at('2016-05-19T10:00:00Z') }, at('2016-05-19T10:00:00.050Z'), hourly), 3_600_000 - 50 + 100, 'after a Job was started')
  t.equal(nextScheduleDelay({ creationTimestamp: created }, at('2016-05-19T12:30:00Z'), hourly), 30 * 60_000 + 100, 'after missed times: the one after the latest')
  t.equal(nextScheduleDelay({ creationTimestamp: created }, at('2016-05-19T12:30:00Z'), parseSchedule('0 0 30 2 *', TimeZone.UTC)), undefined, 'never, for a schedule that never fires')
})

t.test('a Job is named after its scheduled time in minutes', async (t) => {
  t.equal(jobNameFor('hourly', at('2016-05-19T10:00:00Z')), 'hourly-24394200')
  t.equal(jobNameFor('hourly', at('2016-05-19T10:00:59Z')), 'hourly-24394200', 'seconds do not count')
})

const cronJob: KubeObject = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'report', namespace: 'ops', uid: 'cj-uid' },
  spec: {
    schedule: '0 * * * *',
    jobTemplate: {
      metadata: { labels: { app: 'report' }, annotations: { team: 'ops' } },
      spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    },
  },
}

t.test('the Job made from the template', async (t) => {
  const job = jobFromTemplate(cronJob, at('2024-03-10T07:00:00Z'), TimeZone.load('America/New_York'))
  t.strictSame(job.metadata, {
    name: 'report-28500900',
    namespace: 'ops',
    labels: { app: 'report' },
    annotations: { team: 'ops', [SCHEDULED_TIMESTAMP_ANNOTATION]: '2024-03-10T03:00:00-04:00' },
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }],
  })
  t.strictSame(job.spec, (cronJob.spec as { jobTemplate: { spec: unknown } }).jobTemplate.spec)
  t.not(job.spec, (cronJob.spec as { jobTemplate: { spec: unknown } }).jobTemplate.spec, 'a copy, not the cached template')
  const bare = jobFromTemplate({ ...cronJob, spec: { jobTemplate: { spec: {} } } }, at('2024-03-10T07:00:00Z'), TimeZone.UTC)
  t.strictSame(bare.metadata?.annotations, { [SCHEDULED_TIMESTAMP_ANNOTATION]: '2024-03-10T07:00:00Z' })
  t.equal(bare.metadata?.labels, undefined)
})

t.test('finished Jobs: the condition, and oldest first by start time', async (t) => {
  const job = (name: string, startTime?: string, conditions: unknown[] = []): KubeObject => ({ metadata: { name }, status: { ...(startTime === undefined ? {} : { startTime }), conditions } })
  t.equal(finishedCondition(job('a', undefined, [{ type: 'Complete', status: 'True' }])), 'Complete')
  t.equal(finishedCondition(job('a', undefined, [{ type: 'Failed', status: 'True' }])), 'Failed')
  t.equal(finishedCondition(job('a', undefined, [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'False' }])), undefined)
  const sorted = [job('d'), job('c', '2024-01-01T00:00:02Z'), job('b', '2024-01-01T00:00:01Z'), job('a', '2024-01-01T00:00:02Z'), job('e')].sort(byStartTime)
  t.strictSame(
    sorted.map((j) => j.metadata?.name),
    ['b', 'a', 'c', 'd', 'e'],
  )
})
