// leasepb.Lease bytes: hand-derived vectors, round trips across the int64 range, and
// agreement with protobufjs as an independent encoder/decoder.
import t from 'tap'
import protobuf from 'protobufjs'
import { decodeLeaseRecord, encodeLeaseRecord, type LeaseRecord } from '../../../src/kv/lease/lease-record.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const rec = (ID: string, TTL: string, RemainingTTL = '0'): LeaseRecord => ({ ID, TTL, RemainingTTL })

t.test('fixed vectors derived by hand from the protobuf encoding rules', async (t) => {
  // ID=300: tag (1<<3|0)=08; 300 = 0b10_0101100 -> 0xAC (low 7 bits + continuation), 0x02.
  // TTL=60: tag (2<<3|0)=10; 60 = 0x3C. RemainingTTL=0: omitted (proto3 default).
  t.equal(hex(encodeLeaseRecord(rec('300', '60'))), '08ac02103c')
  // RemainingTTL=-1: tag 18; two's complement 2^64-1 = 64 one-bits: nine 0xFF then 0x01.
  t.equal(hex(encodeLeaseRecord(rec('1', '10', '-1'))), '0801100a18ffffffffffffffffff01')
  // ID=2^53+1: bit 0 -> 0x81, six empty 7-bit groups -> 0x80 x6, bit 53 = bit 4 of group 7 -> 0x10.
  t.equal(hex(encodeLeaseRecord(rec('9007199254740993', '0'))), '0881808080808080' + '10')
  // ID=INT64_MIN: only bit 63: nine empty groups 0x80 x9, then 0x01.
  t.equal(hex(encodeLeaseRecord(rec('-9223372036854775808', '5'))), '08' + '80'.repeat(9) + '01' + '1005')
  t.equal(hex(encodeLeaseRecord(rec('0', '0'))), '', 'all defaults: empty message')
  t.strictSame(decodeLeaseRecord(Buffer.from('08ac02103c', 'hex')), rec('300', '60'))
  t.strictSame(decodeLeaseRecord(new Uint8Array()), rec('0', '0'))
})

const samples = [
  '0', '1', '-1', '127', '128', '9000000000', '9007199254740991', '9007199254740993',
  '-9007199254740993', '7587870176418123777', '9223372036854775807', '-9223372036854775808',
]

t.test('round trips across the int64 range, and agrees with protobufjs', async (t) => {
  const Lease = protobuf.Type.fromJSON('Lease', {
    fields: { ID: { type: 'int64', id: 1 }, TTL: { type: 'int64', id: 2 }, RemainingTTL: { type: 'int64', id: 3 } },
  })
  new protobuf.Root().define('leasepb').add(Lease)
  for (const [i, v] of samples.entries()) {
    const r = rec(v, samples[(i + 3) % samples.length]!, samples[(i + 7) % samples.length]!)
    const bytes = encodeLeaseRecord(r)
    t.strictSame(decodeLeaseRecord(bytes), r, `round trip ${v}`)
    const theirs = Lease.encode(Lease.fromObject(r)).finish()
    t.equal(hex(bytes), hex(theirs), `same bytes as protobufjs for ${v}`)
    const back = Lease.toObject(Lease.decode(bytes), { longs: String, defaults: true })
    t.strictSame(back, r, `protobufjs reads ours for ${v}`)
  }
})

t.test('decoding: unknown fields skipped, last value wins, malformed input refused', async (t) => {
  // field 4 varint 7, field 5 length-delimited "hi", field 6 fixed64, field 7 fixed32, then ID twice.
  const bytes = Buffer.from('2007' + '2a026869' + '310102030405060708' + '3d01020304' + '0801' + '0802', 'hex')
  t.strictSame(decodeLeaseRecord(bytes), rec('2', '0'))
  t.throws(() => decodeLeaseRecord(Buffer.from('08', 'hex')), /truncated varint/)
  t.throws(() => decodeLeaseRecord(Buffer.from('08' + 'ff'.repeat(10) + '01', 'hex')), /longer than 10 bytes/)
  t.throws(() => decodeLeaseRecord(Buffer.from('0a0101', 'hex')), /wire type 2, want varint/)
  t.throws(() => decodeLeaseRecord(Buffer.from('2a05', 'hex')), /truncated field/)
  t.throws(() => decodeLeaseRecord(Buffer.from('0001', 'hex')), /field number 0/)
  t.throws(() => decodeLeaseRecord(Buffer.from('23', 'hex')), /unsupported wire type 3/)
})

t.test('encoding refuses what is not a canonical int64', async (t) => {
  for (const bad of ['9223372036854775808', '-9223372036854775809', '07', '-0', '1.5', '', ' 1', '+1']) {
    t.throws(() => encodeLeaseRecord(rec(bad, '1')), TypeError, JSON.stringify(bad))
  }
})
