// Electors against a real API server (memory storage) in real time: the first
// candidate creates the Lease, the next one waits, a release hands over at the next
// attempt rather than after a lease duration, a leader cut off from its apiserver stops
// before anyone else may start, and the metric and Events follow. Durations are kept
// far apart (renew deadline 1.5 s, lease 3 s, retry 0.1 s) so a busy machine's timer
// lateness cannot flip an outcome; the assertions compare orders, not tight times.
/* eslint-disable @typescript-eslint/no-explicit-any -- Event bodies are read by path */
import t from 'tap'
import { Registry } from 'prom-client'
import { MemoryStorage } from '../../src/apiserver/storage/memory.js'
import { newIdentity } from '../../src/leader-election/index.js'
import { candidate, client, getLease, startApi, waitFor } from './helpers.js'

const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 1_500, retryPeriodMs: 100 }
const MICRO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/

async function masterStatus(reg: Registry, name = 'kube-scheduler'): Promise<number | undefined> {
  const m = reg.getSingleMetric('leader_election_master_status')
  if (m === undefined) return undefined
  return (await m.get()).values.find((v) => v.labels.name === name)?.value
}

t.test('the first candidate creates the Lease; the second waits while it is renewed', async (t) => {
  const { url } = await startApi(t)
  const regA = new Registry()
  const regB = new Registry()
  const a = candidate(t, { client: client(t, url), name: 'kube-scheduler', identity: newIdentity('master-1'), metrics: regA, ...TIMINGS })
  await waitFor('a leads', () => a.elector.isLeader())
  t.equal(a.journal.started.length, 1, 'onStartedLeading once')
  t.notOk(a.journal.started[0]!.signal.aborted)
  t.same(a.journal.leaders, [a.elector.identity], 'onNewLeader reports ourselves too')
  t.same(a.elector.fence(), { lease: 'kube-system/kube-scheduler', holder: a.elector.identity })
  t.equal(await masterStatus(regA), 1)

  const first = (await getLease(url))!
  t.equal(first.spec?.holderIdentity, a.elector.identity)
  t.match(first.spec?.holderIdentity, /^master-1_/)
  t.equal(first.spec?.leaseDurationSeconds, 3)
  t.equal(first.spec?.leaseTransitions, 0)
  t.match(first.spec?.acquireTime, MICRO)
  t.match(first.spec?.renewTime, MICRO)

  const b = candidate(t, { client: client(t, url), name: 'kube-scheduler', identity: newIdentity('master-2'), metrics: regB, ...TIMINGS })
  t.equal(await masterStatus(regB), 0, 'a candidate reports 0 from the start')
  await waitFor('b sees a', () => b.elector.getLeader() === a.elector.identity)
  t.same(b.journal.leaders, [a.elector.identity])
  // Well past a lease duration: a live leader's renewals keep b out.
  await waitFor('renewals', async () => (await getLease(url))!.spec?.renewTime !== first.spec?.renewTime)
  await new Promise((r) => setTimeout(r, TIMINGS.leaseDurationMs + 500))
  t.notOk(b.elector.isLeader(), 'b never led')
  t.equal(b.journal.started.length, 0)
  t.equal(b.elector.fence(), undefined)
  t.ok(a.elector.isLeader())
  const later = (await getLease(url))!
  t.equal(later.spec?.holderIdentity, a.elector.identity)
  t.equal(later.spec?.acquireTime, first.spec?.acquireTime, 'renewals keep acquireTime')
  t.not(later.spec?.renewTime, first.spec?.renewTime, 'and move renewTime')
  t.equal(later.spec?.leaseTransitions, 0)

  // The Event of the acquisition, as client-go's LeaseLock.RecordEvent writes it.
  let became: any
  await waitFor('the LeaderElection event', async () => {
    const list = (await (await fetch(`${url}/api/v1/namespaces/kube-system/events`)).json()) as any
    became = list.items.find((e: any) => e.reason === 'LeaderElection' && e.message === `${a.elector.identity} became leader`)
    return became !== undefined
  })
  t.equal(became.type, 'Normal')
  t.match(became.involvedObject, { kind: 'Lease', name: 'kube-scheduler', namespace: 'kube-system', apiVersion: 'coordination.k8s.io/v1' })
  t.equal(became.source.component, 'kube-scheduler')
})

t.test('a release hands the Lease over at the next attempt, not after a lease duration', async (t) => {
  const { url } = await startApi(t)
  const slow = { ...TIMINGS, leaseDurationMs: 20_000, renewDeadlineMs: 10_000 }
  const regA = new Registry()
  const a = candidate(t, { client: client(t, url), name: 'kube-controller-manager', identity: newIdentity('master-1'), metrics: regA, ...slow })
  await waitFor('a leads', () => a.elector.isLeader())
  const b = candidate(t, { client: client(t, url), name: 'kube-controller-manager', identity: newIdentity('master-2'), ...slow })
  await waitFor('b sees a', () => b.elector.getLeader() === a.elector.identity)

  const released = performance.now()
  await a.stop()
  t.equal(a.journal.aborted.length, 1, 'the leader loop was told to stop')
  t.equal(a.journal.stopped.length, 1, 'onStoppedLeading')
  t.ok(a.journal.aborted[0]! <= a.journal.stopped[0]!, 'signal first, then the callback')
  t.notOk(a.elector.isLeader())
  t.equal(await masterStatus(regA, 'kube-controller-manager'), 0)

  await waitFor('b leads', () => b.elector.isLeader(), 15_000)
  const tookMs = b.journal.started[0]!.at - released
  // Next attempt: within retryPeriod x 2.2 of jitter; 5 s leaves room for a busy machine
  // and is still far below the 20 s an expiry would take.
  t.ok(tookMs < 5_000, `taken over in ${Math.round(tookMs)} ms`)
  const lease = (await getLease(url, 'kube-controller-manager'))!
  t.equal(lease.spec?.holderIdentity, b.elector.identity)
  t.equal(lease.spec?.leaseTransitions, 1, 'a takeover counts as a transition')
  t.equal(lease.spec?.leaseDurationSeconds, 20)
  t.same(b.journal.leaders, [a.elector.identity, b.elector.identity])
})

t.test('the released Lease itself: no holder, 1 s', async (t) => {
  const { url } = await startApi(t)
  const a = candidate(t, { client: client(t, url), name: 'kube-scheduler', identity: 'master-1_x', ...TIMINGS })
  await waitFor('a leads', () => a.elector.isLeader())
  const held = (await getLease(url))!
  await a.stop()
  const lease = (await getLease(url))!
  t.equal(lease.spec?.holderIdentity, '')
  t.equal(lease.spec?.leaseDurationSeconds, 1)
  t.equal(lease.spec?.leaseTransitions, held.spec?.leaseTransitions, 'transitions kept')
  t.match(lease.spec?.renewTime, MICRO)
  t.equal(a.elector.getLeader(), undefined, 'nobody holds it now')

  const noRelease = candidate(t, { client: client(t, url), name: 'kube-scheduler', identity: 'master-2_y', releaseOnCancel: false, ...TIMINGS })
  await waitFor('takes the released lease', () => noRelease.elector.isLeader())
  await noRelease.stop()
  t.equal((await getLease(url))!.spec?.holderIdentity, 'master-2_y', 'releaseOnCancel false: left to expire')
  t.equal(noRelease.journal.stopped.length, 1, 'but it stopped leading all the same')
})

t.test('a leader cut off from its apiserver stops before the Lease can expire for anyone else', async (t) => {
  const storage = new MemoryStorage()
  const m1 = await startApi(t, storage)
  const m2 = await startApi(t, storage)
  const a = candidate(t, { client: client(t, m1.url, { timeoutMs: 500 }), name: 'kube-scheduler', identity: newIdentity('master-1'), ...TIMINGS })
  await waitFor('a leads', () => a.elector.isLeader())
  const b = candidate(t, { client: client(t, m2.url), name: 'kube-scheduler', identity: newIdentity('master-2'), ...TIMINGS })
  await waitFor('b sees a', () => b.elector.getLeader() === a.elector.identity)

  await m1.stop() // master-1's apiserver is gone: a's renewals fail from now on
  await waitFor('b leads', () => b.elector.isLeader(), 20_000)
  t.equal(a.journal.aborted.length, 1, "a's leader loop was stopped")
  t.equal(a.journal.stopped.length, 1)
  // a stopped by its renew deadline (1.5 s after its last renewal began); b waited a
  // full lease duration (3 s) after it last saw a change.
  t.ok(a.journal.aborted[0]! < b.journal.started[0]!.at, 'a stopped before b started')
  t.notOk(a.elector.isLeader())
  t.equal(a.elector.fence(), undefined)
  const lease = (await getLease(m2.url))!
  t.equal(lease.spec?.holderIdentity, b.elector.identity)
  t.equal(lease.spec?.leaseTransitions, 1)
})

t.test('an expired Lease of a dead holder is taken over, one more transition', async (t) => {
  const { url } = await startApi(t)
  const c = client(t, url)
  await c.requestJson({
    method: 'POST',
    path: '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases',
    body: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'kube-scheduler' },
      spec: { holderIdentity: 'master-3_dead', leaseDurationSeconds: 1, acquireTime: '2020-01-01T00:00:00.000000Z', renewTime: '2020-01-01T00:00:00.000000Z', leaseTransitions: 4 },
    },
  })
  const started = performance.now()
  const b = candidate(t, { client: c, name: 'kube-scheduler', identity: newIdentity('master-2'), ...TIMINGS })
  await waitFor('b sees the dead holder', () => b.elector.getLeader() === 'master-3_dead')
  await waitFor('b leads', () => b.elector.isLeader())
  // renewTime is years old, yet b waited the lease's duration from its own first sight of it.
  t.ok(b.journal.started[0]!.at - started >= 1_000, 'waited a full duration on its own clock')
  const lease = (await getLease(url))!
  t.equal(lease.spec?.holderIdentity, b.elector.identity)
  t.equal(lease.spec?.leaseTransitions, 5)
  t.not(lease.spec?.acquireTime, '2020-01-01T00:00:00.000000Z', 'a new holder has a new acquireTime')
  t.equal(lease.spec?.leaseDurationSeconds, 3, 'and its own duration')
  t.same(b.journal.leaders, ['master-3_dead', b.elector.identity])
})
