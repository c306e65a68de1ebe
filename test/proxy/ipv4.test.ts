// IPv4 parsing, CIDR membership and the loopback mapping of Service IPs into 127/8.
import t from 'tap'
import { cidrContains, clientAddress, formatIPv4, isLoopback, loopbackAddressFor, parseCidr, parseIPv4 } from '../../src/proxy/ipv4.js'

t.test('addresses parse and format back, malformed ones are refused', async (t) => {
  t.equal(parseIPv4('10.96.0.1'), 0x0a600001)
  t.equal(formatIPv4(0x0a600001), '10.96.0.1')
  t.equal(formatIPv4(parseIPv4('255.255.255.255')!), '255.255.255.255')
  for (const bad of ['10.96.0', '10.96.0.256', '10.96.0.-1', 'a.b.c.d', '', '::1', '1.2.3.4.5', '01234.1.1.1']) t.equal(parseIPv4(bad), undefined, bad)
})

t.test('CIDR membership', async (t) => {
  const range = parseCidr('10.96.0.0/12')!
  t.ok(cidrContains(range, '10.96.0.1'))
  t.ok(cidrContains(range, '10.111.255.254'))
  t.notOk(cidrContains(range, '10.112.0.1'))
  t.notOk(cidrContains(range, 'nonsense'))
  t.same(parseCidr('10.1.2.3/8'), { base: 0x0a000000, bits: 8 }, 'host bits are masked off')
  t.same(parseCidr('192.168.1.7'), { base: parseIPv4('192.168.1.7'), bits: 32 }, 'a bare address is a /32')
  t.ok(cidrContains(parseCidr('0.0.0.0/0')!, '8.8.8.8'))
  t.equal(parseCidr('10.0.0.0/33'), undefined)
  t.equal(parseCidr('10.0.0/8'), undefined)
})

t.test('loopback mode serves a.b.c.d at 127.b.c.d: distinct cluster IPs stay distinct', async (t) => {
  t.equal(loopbackAddressFor('10.96.0.10'), '127.96.0.10')
  t.equal(loopbackAddressFor('10.111.255.254'), '127.111.255.254')
  t.not(loopbackAddressFor('10.96.1.2'), loopbackAddressFor('10.96.2.1'))
  t.equal(loopbackAddressFor('fd00::1'), undefined)
  t.ok(isLoopback('127.96.0.10'))
  t.notOk(isLoopback('128.0.0.1'))
})

t.test('client addresses lose the IPv4-mapped prefix', async (t) => {
  t.equal(clientAddress('::ffff:127.0.0.1'), '127.0.0.1')
  t.equal(clientAddress('127.0.0.1'), '127.0.0.1')
  t.equal(clientAddress(undefined), '')
})
