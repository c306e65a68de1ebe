// The hand-written codecs of the hot KV calls against protobufjs (the reference
// encoder/decoder for etcd's .proto files): random requests decode to the same
// fields, responses decode with protobufjs to what was encoded, unknown fields of
// every wire type are skipped.
import t from 'tap'
import {
  decodeDeleteRangeRequest,
  decodePutRequest,
  decodeRangeRequest,
  encodeDeleteRangeResponse,
  encodePutResponse,
  encodeRangeResponse,
} from '../../../src/kv/server/kv-codec.js'
import { messageType } from '../../../src/kv/server/grpc/wire-check.js'
import { HeaderEncoder } from '../../../src/kv/watch/encode.js'
import type { KeyValue } from '../../../src/kv/mvcc/key-value.js'

let seed = 7
const rnd = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed % n
}
const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rnd(256)))
const bigId = () => (BigInt(rnd(2 ** 30)) << 33n).toString()

/** Appends an unknown field of each wire type. */
function withUnknown(buf: Uint8Array): Buffer {
  return Buffer.concat([buf, Buffer.from([0xc8, 0x3e, 0x96, 0x01]), Buffer.from([0xc2, 0x3e, 3, 1, 2, 3]), Buffer.from([0xc9, 0x3e, 1, 2, 3, 4, 5, 6, 7, 8]), Buffer.from([0xcd, 0x3e, 1, 2, 3, 4])])
}

t.test('PutRequest', async (t) => {
  const type = messageType('etcdserverpb.PutRequest')
  for (let i = 0; i < 200; i++) {
    const obj = { key: bytes(1 + rnd(20)), value: bytes(rnd(300)), lease: rnd(3) === 0 ? bigId() : '0', prev_kv: rnd(2) === 1, ignore_value: rnd(5) === 0, ignore_lease: rnd(5) === 0 }
    let wire: Uint8Array = type.encode(type.fromObject(obj)).finish()
    if (i % 2 === 1) wire = withUnknown(wire)
    const got = decodePutRequest(Buffer.from(wire))
    t.same({ ...got, key: Buffer.from(got.key), value: Buffer.from(got.value ?? []) }, obj, `put #${i}`, { diagnostic: false })
  }
  t.same(decodePutRequest(Buffer.from(type.encode(type.fromObject({ key: Buffer.from('k'), lease: '-5' })).finish())).lease, '-5', 'negative int64')
})

t.test('RangeRequest and DeleteRangeRequest', async (t) => {
  const rt = messageType('etcdserverpb.RangeRequest')
  const obj = {
    key: Buffer.from('a'),
    range_end: Buffer.from('b'),
    limit: 10,
    revision: 2 ** 40,
    sort_order: 2,
    sort_target: 3,
    serializable: true,
    keys_only: true,
    count_only: true,
    min_mod_revision: 1,
    max_mod_revision: 2,
    min_create_revision: 3,
    max_create_revision: 4,
  }
  const got = decodeRangeRequest(withUnknown(rt.encode(rt.fromObject(obj)).finish()))
  t.same({ ...got, key: Buffer.from(got.key), range_end: Buffer.from(got.range_end!) }, { ...obj, sort_order: 'DESCEND', sort_target: 'MOD' })
  t.same(decodeRangeRequest(rt.encode(rt.fromObject({ key: Buffer.from('k'), revision: -1 })).finish() as Buffer).revision, -1)
  t.equal(decodeRangeRequest(rt.encode(rt.fromObject({ key: Buffer.from('k') })).finish() as Buffer).range_end, undefined, 'no range_end: the key alone')
  const dt = messageType('etcdserverpb.DeleteRangeRequest')
  const d = decodeDeleteRangeRequest(withUnknown(dt.encode(dt.fromObject({ key: Buffer.from('x'), range_end: Buffer.from('\0'), prev_kv: true })).finish()))
  t.same({ key: Buffer.from(d.key).toString(), end: Buffer.from(d.range_end!).toString(), prev: d.prev_kv }, { key: 'x', end: '\0', prev: true })
})

t.test('responses decode with protobufjs', async (t) => {
  const h = { cluster_id: String(2 ** 52 + 3), member_id: '12345', raft_term: 7 }
  const headers = new HeaderEncoder(() => ({ clusterId: h.cluster_id, memberId: h.member_id, raftTerm: h.raft_term }))
  const kv = (k: string, lease = '0'): KeyValue => ({ key: Buffer.from(k), value: Buffer.from(`v-${k}`), createRevision: 2, modRevision: 9, version: 3, lease })
  const opts = { longs: String, defaults: true, bytes: String }
  const put = messageType('etcdserverpb.PutResponse').toObject(messageType('etcdserverpb.PutResponse').decode(encodePutResponse({ header: { revision: 9 }, prev_kv: kv('a', '7205759403792793601') }, headers)), opts)
  t.match(put, { header: { cluster_id: h.cluster_id, member_id: '12345', revision: '9', raft_term: '7' }, prev_kv: { key: Buffer.from('a').toString('base64'), mod_revision: '9', lease: '7205759403792793601' } })
  const rt = messageType('etcdserverpb.RangeResponse')
  const range = rt.toObject(rt.decode(encodeRangeResponse({ header: { revision: 9 }, kvs: [kv('a'), kv('b')], more: true, count: 5 }, headers)), opts)
  t.match(range, { header: { revision: '9' }, more: true, count: '5' })
  t.equal((range.kvs as unknown[]).length, 2)
  const empty = rt.toObject(rt.decode(encodeRangeResponse({ header: { revision: 1 }, kvs: [], more: false, count: 0 }, headers)), opts)
  t.match(empty, { kvs: [], more: false, count: '0' })
  const dt = messageType('etcdserverpb.DeleteRangeResponse')
  const del = dt.toObject(dt.decode(encodeDeleteRangeResponse({ header: { revision: 10 }, deleted: 2, prev_kvs: [kv('a')] }, headers)), opts)
  t.match(del, { deleted: '2', header: { revision: '10' } })
  t.equal((del.prev_kvs as unknown[]).length, 1)
})
