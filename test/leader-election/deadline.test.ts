// The elector's time, driven by hand against a real API server: the renew deadline ends
// a term by its own timer at the exact moment it passes; a process resumed after a
// pause (SIGSTOP, a stalled event loop) stops at its first wake-up before sending
// anything, and at once when anything asks whether it leads; a candidate takes an
// unrenewed Lease over exactly one duration after it last saw it change, by its own
// clock, however real time and the Lease's timestamps run.
import t from 'tap'
import { findResource } from '../../src/api/resources.js'
import type { RestClient } from '../../src/client/rest.js'
import { newIdentity } from '../../src/leader-election/index.js'
import { JumpClock } from './jump-clock.js'
import { candidate, client, getLease, startApi, waitFor } from './helpers.js'

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!
const TIMINGS = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 100 }

t.test('the renew deadline ends the term by its own timer, the moment it passes', async (t) => {
  const { url, stop } = await startApi(t)
  const clock = new JumpClock()
  const a = candidate(t, { client: client(t, url), name: 'kube-scheduler', identity: newIdentity('master-1'), clock, ...TIMINGS })
  await waitFor('a leads', () => a.elector.isLeader())
  await stop() // no renewal can succeed from here on

  clock.step(399)
  t.ok(a.elector.isLeader(), 'within the deadline')
  t.equal(a.journal.aborted.length, 0)
  clock.step(1)
  // Checked synchronously after the timer: no I/O, no other task ran in between.
  t.equal(a.journal.aborted.length, 1, 'signal aborted at the deadline')
  t.equal(a.journal.stopped.length, 1, 'onStoppedLeading called')
  t.ok(a.journal.started[0]!.signal.aborted)
  t.match(String((a.journal.started[0]!.signal.reason as Error).message), /failed to renew lease kube-system\/kube-scheduler/)
  t.notOk(a.elector.isLeader())
  t.equal(a.elector.fence(), undefined)
})

t.test('a resumed process stops at its first wake-up, before it sends anything', async (t) => {
  const { url } = await startApi(t)
  const clock = new JumpClock()
  const order: string[] = []
  const c = client(t, url, { headers: () => (order.push('request'), undefined) })
  const a = candidate(t, {
    client: c,
    name: 'kube-scheduler',
    identity: newIdentity('master-1'),
    clock,
    ...TIMINGS,
    onStoppedLeading: () => order.push('stopped'),
  })
  await waitFor('a leads', () => a.elector.isLeader())
  order.length = 0

  clock.jump(5_000) // SIGSTOP ... SIGCONT
  t.ok(clock.fireNext(), 'the renew timer wakes up first (overdue timers run oldest first)')
  await waitFor('a stops', () => order.includes('stopped'))
  t.equal(order[0], 'stopped', 'stopped before any request went out')
  t.ok(a.journal.started[0]!.signal.aborted)
})

t.test('a resumed process that is asked before any timer ran answers "not leader", and stops', async (t) => {
  const { url } = await startApi(t)
  const clock = new JumpClock()
  const c = client(t, url)
  let writer: RestClient | undefined
  const a = candidate(t, {
    client: c,
    name: 'kube-scheduler',
    identity: newIdentity('master-1'),
    clock,
    ...TIMINGS,
    onStartedLeading: (signal) => {
      writer = a.elector.fencedClient(c)
      void signal
    },
  })
  await waitFor('a leads', () => writer !== undefined)
  t.teardown(() => writer?.close())
  const ok = await writer!.resource(CONFIGMAPS, 'default').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' } })
  t.equal(ok.metadata?.name, 'before', 'the leader writes')

  clock.jump(5_000)
  // I/O may run before the overdue timers do: the loop's next write must already fail.
  const err = await writer!.resource(CONFIGMAPS, 'default').create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } }).catch((e: unknown) => e)
  t.match(err, { name: 'ApiError', code: 409, reason: 'Conflict' })
  t.match((err as Error).message, /fenced by lease kube-system\/kube-scheduler, which "master-1_[^"]+" does not hold/)
  t.notOk(a.elector.isLeader())
  const res = await fetch(`${url}/api/v1/namespaces/default/configmaps/after`)
  t.equal(res.status, 404, 'nothing written')
})

t.test('an unrenewed Lease is taken over one duration after it last changed, on the local clock', async (t) => {
  const { url } = await startApi(t)
  const c = client(t, url)
  const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases'
  // A holder whose renewTime claims the far future: it must not matter.
  const created = await c.requestJson<{ metadata: { resourceVersion: string } }>({
    method: 'POST',
    path: leasePath,
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'kube-scheduler' },
      spec: { holderIdentity: 'master-3_x', leaseDurationSeconds: 5, renewTime: '2099-01-01T00:00:00.000000Z', leaseTransitions: 2 },
    },
  })
  const clock = new JumpClock()
  const b = candidate(t, { client: c, name: 'kube-scheduler', identity: newIdentity('master-2'), clock, leaseDurationMs: 6_000, renewDeadlineMs: 4_000, retryPeriodMs: 100 })
  await waitFor('b saw the lease', () => b.elector.getLeader() === 'master-3_x' && clock.pending() > 0)

  // Attempts every 100-220 ms of the elector's time; each one's I/O finishes before the next step.
  const advance = async (ms: number): Promise<void> => {
    for (let done = 0; done < ms; done += 250) {
      clock.step(250)
      await waitFor('the next attempt', () => clock.pending() > 0 || b.elector.isLeader())
    }
  }
  await advance(3_000)
  t.notOk(b.elector.isLeader(), '3 s: still held')
  // The holder renews (by hand): b's clock for it starts again.
  await c.requestJson({
    method: 'PUT',
    path: `${leasePath}/kube-scheduler`,
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'kube-scheduler', resourceVersion: created.metadata.resourceVersion },
      spec: { holderIdentity: 'master-3_x', leaseDurationSeconds: 5, renewTime: '2000-01-01T00:00:00.000000Z', leaseTransitions: 2 },
    },
  })
  // b's next attempt, within 250 ms, reads the change.
  await advance(4_500)
  t.notOk(b.elector.isLeader(), '7.5 s after first sight, but under 5 s since it saw the renewal')
  await advance(1_250)
  t.ok(b.elector.isLeader(), 'taken over once 5 s passed since it last changed')
  const lease = (await getLease(url))!
  t.equal(lease.spec?.holderIdentity, b.elector.identity)
  t.equal(lease.spec?.leaseTransitions, 3)
})
