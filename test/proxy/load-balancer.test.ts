// Endpoint choice of one service port: round-robin, ClientIP session affinity with its
// timeout, endpoint changes, and failover away from endpoints that did not answer.
import t from 'tap'
import type { Endpoint } from '../../src/proxy/endpoints.js'
import { LoadBalancer } from '../../src/proxy/load-balancer.js'

const none = new Set<string>()
const ep = (ip: string, port = 80): Endpoint => ({ ip, port, ready: true, serving: true, terminating: false, isLocal: false, zoneHints: none, nodeHints: none })
const ips = (picks: (Endpoint | undefined)[]): string[] => picks.map((p) => p?.ip ?? '-')

t.test('round-robin visits every endpoint in turn', async (t) => {
  const lb = new LoadBalancer()
  lb.update([ep('10.0.0.1'), ep('10.0.0.2'), ep('10.0.0.3')], 0)
  t.same(ips(Array.from({ length: 6 }, () => lb.pick('1.1.1.1'))), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3'])
})

t.test('no endpoints: nothing to pick', async (t) => {
  const lb = new LoadBalancer()
  t.equal(lb.pick('1.1.1.1'), undefined)
  lb.update([ep('10.0.0.1')], 0)
  lb.update([], 0)
  t.equal(lb.size, 0)
  t.equal(lb.pick('1.1.1.1'), undefined)
})

t.test('endpoint changes keep the rotation going over the new set', async (t) => {
  const lb = new LoadBalancer()
  lb.update([ep('10.0.0.1'), ep('10.0.0.2'), ep('10.0.0.3')], 0)
  lb.pick('c')
  lb.pick('c')
  lb.pick('c')
  lb.update([ep('10.0.0.1'), ep('10.0.0.3')], 0)
  const seen = ips(Array.from({ length: 4 }, () => lb.pick('c')))
  t.same([...new Set(seen)].sort(), ['10.0.0.1', '10.0.0.3'], 'the removed endpoint is never picked')
  t.equal(seen.filter((s) => s === '10.0.0.1').length, 2, 'evenly')
})

t.test('ClientIP affinity pins a client until it has been idle for the timeout', async (t) => {
  let now = 0
  const lb = new LoadBalancer(() => now)
  lb.update([ep('10.0.0.1'), ep('10.0.0.2'), ep('10.0.0.3')], 10)
  t.equal(lb.pick('192.168.0.5')!.ip, '10.0.0.1')
  for (let i = 0; i < 5; i++) {
    now += 9_000
    t.equal(lb.pick('192.168.0.5')!.ip, '10.0.0.1', 'each new connection within the timeout renews the pin')
  }
  t.equal(lb.pick('192.168.0.6')!.ip, '10.0.0.2', 'another client is balanced as usual')
  now += 10_000
  t.equal(lb.pick('192.168.0.5')!.ip, '10.0.0.3', 'idle for the timeout: balanced again')
  t.equal(lb.pick('192.168.0.5')!.ip, '10.0.0.3', 'and pinned anew')
})

t.test('a client pinned to an endpoint that left is re-balanced', async (t) => {
  const lb = new LoadBalancer(() => 0)
  lb.update([ep('10.0.0.1'), ep('10.0.0.2')], 10800)
  const first = lb.pick('c')!
  const rest = first.ip === '10.0.0.1' ? '10.0.0.2' : '10.0.0.1'
  lb.update([ep(rest), ep('10.0.0.9')], 10800)
  const next = lb.pick('c')!
  t.not(next.ip, first.ip)
  t.equal(lb.pick('c')!.ip, next.ip, 'and pinned to the new one')
})

t.test('turning affinity off forgets every pin', async (t) => {
  const lb = new LoadBalancer(() => 0)
  lb.update([ep('10.0.0.1'), ep('10.0.0.2')], 100)
  lb.pick('c')
  lb.update([ep('10.0.0.1'), ep('10.0.0.2')], 0)
  t.not(lb.pick('c')!.ip, lb.pick('c')!.ip, 'alternates again')
})

t.test('a failed dial excludes that endpoint and resets the client pin', async (t) => {
  const lb = new LoadBalancer(() => 0)
  lb.update([ep('10.0.0.1'), ep('10.0.0.2'), ep('10.0.0.3')], 100)
  const first = lb.pick('c')!
  const failed = new Set([`${first.ip}:80`])
  const second = lb.pick('c', { exclude: failed, resetAffinity: true })!
  t.not(second.ip, first.ip)
  t.equal(lb.pick('c')!.ip, second.ip, 'the client is pinned to the endpoint that answered')
  t.equal(lb.pick('c', { exclude: new Set(['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80']) }), undefined, 'all failed: nothing')
})
