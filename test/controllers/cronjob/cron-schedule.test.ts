// When a cron schedule next fires (src/api/cron-schedule.ts), checked against
// robfig/cron v3's own expectations: fields, ranges, steps, names, the day-of-month /
// day-of-week rule, descriptors, @every, and time zones across DST changes.
import t from 'tap'
import { formatRFC3339, parseSchedule, TimeZone } from '../../../src/api/cron-schedule.js'

/** Go's "2006-01-02T15:04:05-0700" (or Z) as ms. */
const at = (s: string): number => Date.parse(s.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'))
const iso = (ms: number | undefined): string => (ms === undefined ? 'never' : new Date(ms).toISOString())

function nextOf(spec: string, from: string, zone = TimeZone.UTC): string {
  return iso(parseSchedule(spec, zone).next(at(from)))
}

t.test('fields, ranges, steps and names', async (t) => {
  const cases: [string, string, string][] = [
    ['0/15 * * * *', '2012-07-09T14:45:00Z', '2012-07-09T15:00:00Z'],
    ['0/15 * * * *', '2012-07-09T14:59:59Z', '2012-07-09T15:00:00Z'],
    ['5/15 * * * *', '2012-07-09T15:05:00Z', '2012-07-09T15:20:00Z'],
    ['20-35/15 * * * *', '2012-07-09T15:45:00Z', '2012-07-09T16:20:00Z'],
    ['*/15 * * * *', '2012-07-09T23:46:00Z', '2012-07-10T00:00:00Z'],
    ['20-35/15 * * * *', '2012-07-09T23:45:00Z', '2012-07-10T00:20:00Z'],
    ['0 0 9 Apr-Oct ?', '2012-07-09T23:35:00Z', '2012-08-09T00:00:00Z'],
    ['0 0 * Feb Mon', '2012-07-09T23:35:00Z', '2013-02-04T00:00:00Z'],
    ['* * * * *', '2012-12-31T23:59:45Z', '2013-01-01T00:00:00Z'],
    ['0 0 29 Feb ?', '2012-07-09T23:35:00Z', '2016-02-29T00:00:00Z'],
    ['30 8 ? jul sun', '2012-07-01T00:00:00Z', '2012-07-01T08:30:00Z'],
    ['0,30 9-17/4 * * *', '2012-07-09T09:30:00Z', '2012-07-09T13:00:00Z'],
  ]
  for (const [spec, from, want] of cases) t.equal(nextOf(spec, from), iso(at(want)), `${spec} after ${from}`)
  t.equal(nextOf('* * * * *', '2012-07-09T14:45:00.500Z'), '2012-07-09T14:46:00.000Z', 'the next time is strictly after, on a whole minute')
})

t.test('day of month and day of week: either matches when both are restricted, both when one is a star', async (t) => {
  // 2012-07-15 is a Sunday; 2012-06-15 a Friday.
  t.equal(nextOf('0 0 1,15 * Sun', '2012-07-14T12:00:00Z'), '2012-07-15T00:00:00.000Z')
  t.equal(nextOf('0 0 1,15 * Sun', '2012-06-14T12:00:00Z'), '2012-06-15T00:00:00.000Z', 'the 15th though not a Sunday')
  t.equal(nextOf('0 0 1,15 * Sun', '2012-07-02T12:00:00Z'), '2012-07-08T00:00:00.000Z', 'a Sunday though not the 1st or 15th')
  t.equal(nextOf('0 0 * * Mon', '2012-07-14T12:00:00Z'), '2012-07-16T00:00:00.000Z', 'a star day of month: only Mondays')
  t.equal(nextOf('0 0 1,15 * *', '2012-07-02T12:00:00Z'), '2012-07-15T00:00:00.000Z', 'a star day of week: only the 1st and 15th')
  t.equal(nextOf('0 0 */2 * Sun', '2012-07-02T12:00:00Z'), '2012-07-03T00:00:00.000Z', 'a star with a step over 1 is no star: an odd day alone matches')
  t.equal(nextOf('0 0 */1 * Mon', '2012-07-14T12:00:00Z'), '2012-07-16T00:00:00.000Z', 'a star with a step of 1 is still a star: Mondays only')
  t.equal(nextOf('0 0 */10 * Sun', '2012-07-14T12:00:00Z'), '2012-07-15T00:00:00.000Z', '*/10 is not a star: a Sunday alone matches')
  t.equal(nextOf('0 0 * Feb Mon/2', '2012-07-09T23:35:00Z'), '2013-02-01T00:00:00.000Z', 'Mon/2 (Mon, Wed, Fri) with a star day: Friday the 1st')
})

t.test('descriptors', async (t) => {
  const from = '2012-07-09T15:04:00Z' // a Monday
  t.equal(nextOf('@hourly', from), '2012-07-09T16:00:00.000Z')
  t.equal(nextOf('@daily', from), '2012-07-10T00:00:00.000Z')
  t.equal(nextOf('@midnight', from), '2012-07-10T00:00:00.000Z')
  t.equal(nextOf('@weekly', from), '2012-07-15T00:00:00.000Z', 'Sunday midnight')
  t.equal(nextOf('@monthly', from), '2012-08-01T00:00:00.000Z')
  t.equal(nextOf('@yearly', from), '2013-01-01T00:00:00.000Z')
  t.equal(nextOf('@annually', from), '2013-01-01T00:00:00.000Z')
})

t.test('@every: whole seconds from the given time, at least one', async (t) => {
  const from = '2012-07-09T15:04:05.700Z'
  t.equal(nextOf('@every 1s', from), '2012-07-09T15:04:06.000Z')
  t.equal(nextOf('@every 1h30m', from), '2012-07-09T16:34:05.000Z')
  t.equal(nextOf('@every 1.5s', from), '2012-07-09T15:04:06.000Z', 'a fraction of a second is dropped')
  t.equal(nextOf('@every 300ms', from), '2012-07-09T15:04:06.000Z', 'under a second counts as one')
  t.equal(nextOf('@every 0', from), '2012-07-09T15:04:06.000Z')
  t.equal(nextOf('@every 90s', from), '2012-07-09T15:05:35.000Z')
  t.equal(nextOf('@every 2m', '2012-07-09T15:04:05Z', TimeZone.load('America/New_York')), '2012-07-09T15:06:05.000Z', 'a zone does not matter')
})

t.test('a schedule that never fires gives no time', async (t) => {
  t.equal(nextOf('0 0 30 Feb ?', '2012-07-09T23:35:00Z'), 'never')
  t.equal(nextOf('0 0 31 Apr ?', '2012-07-09T23:35:00Z'), 'never')
})

t.test('time zones: a schedule is read on the zone’s wall clock', async (t) => {
  const kolkata = TimeZone.load('Asia/Kolkata')
  t.equal(nextOf('14 14 * * *', '2016-01-03T13:09:03+0530', kolkata), iso(at('2016-01-03T14:14:00+0530')))
  t.equal(nextOf('14 14 * * *', '2016-01-03T14:09:03+0530', kolkata), iso(at('2016-01-03T14:14:00+0530')))
  t.equal(nextOf('0 9 * * *', '2024-06-01T12:00:00Z', TimeZone.load('Australia/Lord_Howe')), iso(at('2024-06-01T22:30:00Z')), 'a half-hour DST zone in winter (+10:30)')
})

t.test('DST: a skipped hour is skipped, a repeated hour runs in both offsets (America/New_York)', async (t) => {
  const ny = TimeZone.load('America/New_York')
  const cases: [string, string, string][] = [
    // 2am EST (-5) -> 3am EDT (-4) on 2012-03-11.
    ['30 2 11 Mar ?', '2012-03-11T00:00:00-0500', '2013-03-11T02:30:00-0400'],
    ['0 * * * ?', '2012-03-11T00:00:00-0500', '2012-03-11T01:00:00-0500'],
    ['0 * * * ?', '2012-03-11T01:00:00-0500', '2012-03-11T03:00:00-0400'],
    ['0 * * * ?', '2012-03-11T03:00:00-0400', '2012-03-11T04:00:00-0400'],
    ['0 1 * * ?', '2012-03-11T01:00:00-0500', '2012-03-12T01:00:00-0400'],
    ['0 2 * * ?', '2012-03-11T00:00:00-0500', '2012-03-12T02:00:00-0400'],
    // 2am EDT (-4) -> 1am EST (-5) on 2012-11-04.
    ['30 2 04 Nov ?', '2012-11-04T00:00:00-0400', '2012-11-04T02:30:00-0500'],
    ['30 1 04 Nov ?', '2012-11-04T01:45:00-0400', '2012-11-04T01:30:00-0500'],
    ['0 * * * ?', '2012-11-04T00:00:00-0400', '2012-11-04T01:00:00-0400'],
    ['0 * * * ?', '2012-11-04T01:00:00-0400', '2012-11-04T01:00:00-0500'],
    ['0 * * * ?', '2012-11-04T01:00:00-0500', '2012-11-04T02:00:00-0500'],
    ['0 1 * * ?', '2012-11-04T00:00:00-0400', '2012-11-04T01:00:00-0400'],
    ['0 1 * * ?', '2012-11-04T01:00:00-0400', '2012-11-04T01:00:00-0500'],
    ['0 1 * * ?', '2012-11-04T01:00:00-0500', '2012-11-05T01:00:00-0500'],
    ['0 2 * * ?', '2012-11-04T00:00:00-0400', '2012-11-04T02:00:00-0500'],
    ['0 3 * * ?', '2012-11-04T00:00:00-0400', '2012-11-04T03:00:00-0500'],
    ['0 3 3 * ?', '2012-11-04T00:00:00-0400', '2012-12-03T03:00:00-0500'],
  ]
  for (const [spec, from, want] of cases) t.equal(nextOf(spec, from, ny), iso(at(want)), `${spec} after ${from}`)
})

t.test('DST: a midnight that does not exist (America/Sao_Paulo, 2018)', async (t) => {
  const sp = TimeZone.load('America/Sao_Paulo')
  t.equal(nextOf('0 9 10 * ?', '2018-10-17T05:00:00-0400', sp), iso(at('2018-11-10T06:00:00-0500')))
  t.equal(nextOf('0 9 22 * ?', '2018-02-14T05:00:00-0500', sp), iso(at('2018-02-22T07:00:00-0500')))
})

t.test('a TZ= or CRON_TZ= prefix names the zone; a bad one is refused with robfig’s text', async (t) => {
  t.equal(nextOf('TZ=America/New_York 0 * * * ?', '2012-03-11T01:00:00-0500'), iso(at('2012-03-11T03:00:00-0400')))
  t.equal(nextOf('CRON_TZ=America/New_York 0 * * * ?', '2012-03-11T01:00:00-0500'), iso(at('2012-03-11T03:00:00-0400')))
  t.throws(() => parseSchedule('TZ=Mars/Olympus 0 * * * *', TimeZone.UTC), { message: 'provided bad location Mars/Olympus: unknown time zone Mars/Olympus' })
  t.throws(() => parseSchedule('61 * * * *', TimeZone.UTC), { message: 'end of range (61) above maximum (59): 61' })
  t.throws(() => parseSchedule('@often', TimeZone.UTC), { message: 'unrecognized descriptor: @often' })
})

t.test('time zones load as Go’s LoadLocation does', async (t) => {
  t.equal(TimeZone.load('').name, 'UTC')
  t.equal(TimeZone.load('UTC').name, 'UTC')
  t.equal(TimeZone.load('Europe/Berlin').name, 'Europe/Berlin')
  t.throws(() => TimeZone.load('Mars/Olympus'), { message: 'unknown time zone Mars/Olympus' })
  t.throws(() => TimeZone.load('europe/berlin'), { message: 'unknown time zone europe/berlin' }, 'names are case-sensitive')
  t.throws(() => TimeZone.load('+05:30'), { message: 'unknown time zone +05:30' })
  t.throws(() => TimeZone.load('../etc/passwd'), { message: 'time: invalid location name' })
})

t.test('wall-clock times a DST change skips or repeats resolve as time.Date does', async (t) => {
  const ny = TimeZone.load('America/New_York')
  t.equal(iso(ny.at(2012, 3, 11, 2, 30)), iso(at('2012-03-11T01:30:00-0500')), 'a skipped time west of UTC lands an hour early (Go looks up the offset at the UTC guess)')
  t.equal(iso(ny.at(2012, 11, 4, 1, 30)), iso(at('2012-11-04T01:30:00-0400')), 'a repeated time takes the earlier offset')
  t.equal(iso(ny.at(2012, 1, 32)), iso(at('2012-02-01T00:00:00-0500')), 'out-of-range days carry over')
  const london = TimeZone.load('Europe/London')
  t.equal(iso(london.at(2024, 3, 31, 1, 30)), iso(at('2024-03-31T02:30:00+0100')), 'a skipped time east of the change lands an hour late')
  t.equal(iso(london.at(2024, 10, 27, 1, 30)), iso(at('2024-10-27T01:30:00+0000')), 'Go takes GMT here: the guess lands in the later offset')
  t.strictSame(ny.wall(at('2012-11-04T01:30:00-0500')), { year: 2012, month: 11, day: 4, hour: 1, minute: 30, second: 0, weekday: 0 })
})

t.test('RFC 3339 in a zone, Z for a zero offset', async (t) => {
  const ms = at('2024-03-10T07:00:00Z')
  t.equal(formatRFC3339(ms, TimeZone.UTC), '2024-03-10T07:00:00Z')
  t.equal(formatRFC3339(ms, TimeZone.load('America/New_York')), '2024-03-10T03:00:00-04:00')
  t.equal(formatRFC3339(ms, TimeZone.load('Asia/Kolkata')), '2024-03-10T12:30:00+05:30')
  t.equal(formatRFC3339(at('2024-01-10T07:00:00Z'), TimeZone.load('Europe/London')), '2024-01-10T07:00:00Z')
})
