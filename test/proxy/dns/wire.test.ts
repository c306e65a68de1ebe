// The DNS wire codec: round trips of every record type we write, name compression,
// EDNS(0), and refusal of malformed packets (truncation, pointer loops, bad labels).
import t from 'tap'
import { decodeMessage, defaultFlags, type DnsMessage, encodeMessage, RCODE, TYPE } from '../../../src/proxy/dns/wire.js'

const FORMAT = { name: 'DnsFormatError' }

const base = (over: Partial<DnsMessage> = {}): DnsMessage => ({
  id: 0x1234,
  flags: defaultFlags({ response: true, authoritative: true, recursionDesired: true, rcode: RCODE.NXDOMAIN }),
  questions: [{ name: 'web.default.svc.cluster.local', type: TYPE.A, class: 1 }],
  answers: [],
  authorities: [],
  additionals: [],
  ...over,
})

t.test('every record type survives a round trip', async (t) => {
  const msg = base({
    answers: [
      { name: 'web.default.svc.cluster.local', ttl: 5, class: 1, type: 'A', address: '127.96.0.20' },
      { name: 'web.default.svc.cluster.local', ttl: 5, class: 1, type: 'AAAA', address: 'fd00:0:0:0:0:0:0:1' },
      { name: 'ext.default.svc.cluster.local', ttl: 5, class: 1, type: 'CNAME', target: 'example.org' },
      { name: '_http._tcp.web.default.svc.cluster.local', ttl: 5, class: 1, type: 'SRV', priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' },
      { name: '20.0.96.10.in-addr.arpa', ttl: 5, class: 1, type: 'PTR', target: 'web.default.svc.cluster.local' },
      { name: 'dns-version.cluster.local', ttl: 5, class: 1, type: 'TXT', texts: ['1.1.0', ''] },
      { name: 'cluster.local', ttl: 5, class: 1, type: 'RAW', code: 99, rdata: Buffer.from([1, 2, 3]) },
    ],
    authorities: [
      { name: 'cluster.local', ttl: 5, class: 1, type: 'SOA', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1700000000, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 },
      { name: 'cluster.local', ttl: 5, class: 1, type: 'NS', target: 'ns.dns.cluster.local' },
    ],
    additionals: [{ name: 'web.default.svc.cluster.local', ttl: 5, class: 1, type: 'A', address: '10.96.0.20' }],
  })
  const bytes = encodeMessage(msg)
  t.same(decodeMessage(bytes), msg)
})

t.test('names are compressed and decompressed', async (t) => {
  const answers = Array.from({ length: 10 }, (_, i) => ({ name: 'web.default.svc.cluster.local', ttl: 5, type: 'A' as const, address: `10.0.0.${i}` }))
  const bytes = encodeMessage(base({ answers }))
  // 12 header + question (31 name + 4) + each answer: 2 pointer + 10 fixed + 4 data.
  t.equal(bytes.length, 12 + 31 + 4 + 10 * 16)
  t.same(decodeMessage(bytes).answers.map((a) => a.name), answers.map((a) => a.name))
})

t.test('EDNS(0): the OPT record is read apart, and written back', async (t) => {
  const msg = base({ edns: { udpSize: 4096, extendedRcode: 0, version: 0, dnssecOk: true, options: Buffer.from([0, 10, 0, 2, 0xab, 0xcd]) } })
  const back = decodeMessage(encodeMessage(msg))
  t.same(back.edns, msg.edns)
  t.same(back.additionals, [])
})

t.test('flags and case survive', async (t) => {
  const msg = base({ questions: [{ name: 'Web.Default.SVC.cluster.local', type: TYPE.SRV, class: 1 }], flags: defaultFlags({ opcode: 2, truncated: true, recursionAvailable: true, checkingDisabled: true, authenticData: true, rcode: RCODE.REFUSED }) })
  t.same(decodeMessage(encodeMessage(msg)), msg)
})

t.test('malformed packets are refused, never looped on', async (t) => {
  const good = encodeMessage(base({ answers: [{ name: 'a.b', ttl: 1, type: 'A', address: '1.2.3.4' }] }))
  for (let cut = 1; cut < good.length; cut++) t.throws(() => decodeMessage(good.subarray(0, cut)), FORMAT, `cut at ${cut}`)
  // A question whose name points at itself.
  const loop = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])
  t.throws(() => decodeMessage(loop), FORMAT)
  // A forward pointer.
  const fwd = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0, 0, 1, 0, 1])
  t.throws(() => decodeMessage(fwd), FORMAT)
  // Reserved label type 0x40.
  const ext = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1])
  t.throws(() => decodeMessage(ext), FORMAT)
  // An A record of 3 bytes.
  const badA = Buffer.concat([encodeMessage(base({ questions: [] })).subarray(0, 12), Buffer.from([0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 3, 1, 2, 3])])
  badA.writeUInt16BE(1, 6)
  t.throws(() => decodeMessage(badA), FORMAT)
  t.throws(() => encodeMessage(base({ questions: [{ name: 'a..b', type: 1, class: 1 }] })), FORMAT, 'empty label')
  t.throws(() => encodeMessage(base({ questions: [{ name: 'x'.repeat(64), type: 1, class: 1 }] })), FORMAT, 'label over 63')
})
