// Pod IPs from the node's range: never the network, gateway or broadcast address,
// handed out round the range so a released IP is not reused at once.
import t from 'tap'
import { defaultPodCidr, indexedPodCidr, parseIPv4Cidr, PodIpAllocator } from '../../../src/kubelet/pod-ip.js'

t.test('a /29 gives its five host addresses after the gateway, then refuses', async (t) => {
  const a = new PodIpAllocator('10.1.2.0/29')
  t.equal(a.capacity, 5)
  const ips = ['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => a.allocate(p))
  t.same(ips, ['10.1.2.2', '10.1.2.3', '10.1.2.4', '10.1.2.5', '10.1.2.6'])
  t.throws(() => a.allocate('p6'), /no IP addresses left in 10\.1\.2\.0\/29/)
  t.equal(a.allocate('p3'), '10.1.2.4', 'a pod keeps its IP')
})

t.test('released IPs come back only after the rest of the range', async (t) => {
  const a = new PodIpAllocator('10.1.2.0/29')
  t.equal(a.allocate('p1'), '10.1.2.2')
  a.release('p1')
  t.equal(a.allocate('p2'), '10.1.2.3', 'not the one just released')
  for (const p of ['p3', 'p4', 'p5']) a.allocate(p)
  t.equal(a.allocate('p6'), '10.1.2.2', 'wrapped around to the free one')
})

t.test('an adopted pod keeps its IP when it is in range and free', async (t) => {
  const a = new PodIpAllocator('10.1.2.0/24')
  t.ok(a.reserve('old', '10.1.2.9'))
  t.equal(a.get('old'), '10.1.2.9')
  t.notOk(a.reserve('other', '10.1.2.9'), 'taken')
  t.notOk(a.reserve('x', '10.9.9.9'), 'out of range')
  t.notOk(a.reserve('y', '10.1.2.1'), 'the gateway')
  t.ok(a.contains('10.1.2.254'))
  t.notOk(a.contains('10.1.2.255'), 'broadcast')
})

t.test('CIDRs: parsing, the node-name default and the indexed ranges of hollow nodes', async (t) => {
  t.same(parseIPv4Cidr('10.244.1.7/24'), { base: (10 << 24 >>> 0) + (244 << 16) + (1 << 8), bits: 24 })
  t.throws(() => parseIPv4Cidr('fd00::/64'), /invalid CIDR address/)
  t.throws(() => parseIPv4Cidr('10.0.0.0/33'), /invalid CIDR address/)
  const d = defaultPodCidr('worker-1')
  t.equal(d, defaultPodCidr('worker-1'), 'stable')
  t.match(d, /^10\.(1[2-9]\d|2[0-5]\d)\.\d+\.0\/24$/)
  t.not(defaultPodCidr('worker-2'), d)
  t.equal(indexedPodCidr(0), '10.128.0.0/24')
  t.equal(indexedPodCidr(257), '10.129.1.0/24')
  t.equal(indexedPodCidr(32767), '10.255.255.0/24')
  t.throws(() => indexedPodCidr(32768))
})
