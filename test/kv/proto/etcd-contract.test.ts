// Proves proto/etcd/ restates etcd's v3 API: every service and method etcd 3.5 serves
// is there with the right streaming shape, and a grpc-js client built only from our
// files talks to a real etcd 3.4 (Debian's /usr/bin/etcd; `bash scripts/install-deps.sh`
// installs it) and agrees with etcdctl.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import * as grpc from '@grpc/grpc-js'
import type { MethodDefinition, ServiceDefinition } from '@grpc/proto-loader'
import t from 'tap'
import { etcdProtoDir, loadEtcdProto } from '../../../src/kv/etcd-proto.js'

const ETCD = '/usr/bin/etcd'
const ETCDCTL = '/usr/bin/etcdctl'

const pkg = loadEtcdProto()

// ------------------------------------------------------------------ the method table

type Shape = 'unary' | 'server-stream' | 'client-stream' | 'bidi'

// Every RPC etcd 3.5 serves (api/etcdserverpb/rpc.proto at v3.5.33), by full path.
const METHODS: Record<string, Shape> = {
  '/etcdserverpb.KV/Range': 'unary',
  '/etcdserverpb.KV/Put': 'unary',
  '/etcdserverpb.KV/DeleteRange': 'unary',
  '/etcdserverpb.KV/Txn': 'unary',
  '/etcdserverpb.KV/Compact': 'unary',
  '/etcdserverpb.Watch/Watch': 'bidi',
  '/etcdserverpb.Lease/LeaseGrant': 'unary',
  '/etcdserverpb.Lease/LeaseRevoke': 'unary',
  '/etcdserverpb.Lease/LeaseKeepAlive': 'bidi',
  '/etcdserverpb.Lease/LeaseTimeToLive': 'unary',
  '/etcdserverpb.Lease/LeaseLeases': 'unary',
  '/etcdserverpb.Cluster/MemberAdd': 'unary',
  '/etcdserverpb.Cluster/MemberRemove': 'unary',
  '/etcdserverpb.Cluster/MemberUpdate': 'unary',
  '/etcdserverpb.Cluster/MemberList': 'unary',
  '/etcdserverpb.Cluster/MemberPromote': 'unary',
  '/etcdserverpb.Maintenance/Alarm': 'unary',
  '/etcdserverpb.Maintenance/Status': 'unary',
  '/etcdserverpb.Maintenance/Defragment': 'unary',
  '/etcdserverpb.Maintenance/Hash': 'unary',
  '/etcdserverpb.Maintenance/HashKV': 'unary',
  '/etcdserverpb.Maintenance/Snapshot': 'server-stream',
  '/etcdserverpb.Maintenance/MoveLeader': 'unary',
  '/etcdserverpb.Maintenance/Downgrade': 'unary',
  '/etcdserverpb.Auth/AuthEnable': 'unary',
  '/etcdserverpb.Auth/AuthDisable': 'unary',
  '/etcdserverpb.Auth/AuthStatus': 'unary',
  '/etcdserverpb.Auth/Authenticate': 'unary',
  '/etcdserverpb.Auth/UserAdd': 'unary',
  '/etcdserverpb.Auth/UserGet': 'unary',
  '/etcdserverpb.Auth/UserList': 'unary',
  '/etcdserverpb.Auth/UserDelete': 'unary',
  '/etcdserverpb.Auth/UserChangePassword': 'unary',
  '/etcdserverpb.Auth/UserGrantRole': 'unary',
  '/etcdserverpb.Auth/UserRevokeRole': 'unary',
  '/etcdserverpb.Auth/RoleAdd': 'unary',
  '/etcdserverpb.Auth/RoleGet': 'unary',
  '/etcdserverpb.Auth/RoleList': 'unary',
  '/etcdserverpb.Auth/RoleDelete': 'unary',
  '/etcdserverpb.Auth/RoleGrantPermission': 'unary',
  '/etcdserverpb.Auth/RoleRevokePermission': 'unary',
}

const SERVICES = ['etcdserverpb.KV', 'etcdserverpb.Watch', 'etcdserverpb.Lease', 'etcdserverpb.Cluster', 'etcdserverpb.Maintenance', 'etcdserverpb.Auth']

function service(name: string): ServiceDefinition {
  const def = pkg[name]
  if (def === undefined || 'format' in def) throw new Error(`${name} is not a service`)
  return def as ServiceDefinition
}

function method(path: string): MethodDefinition<object, object> {
  const [, svc, name] = path.split('/')
  const m = service(svc)[name]
  if (m === undefined) throw new Error(`no method ${path}`)
  return m
}

function shape(m: MethodDefinition<object, object>): Shape {
  if (m.requestStream) return m.responseStream ? 'bidi' : 'client-stream'
  return m.responseStream ? 'server-stream' : 'unary'
}

t.test('the contract declares every etcd 3.5 RPC with its streaming shape, and nothing else', async (t) => {
  const declared: Record<string, Shape> = {}
  for (const name of SERVICES) {
    for (const m of Object.values(service(name))) declared[m.path] = shape(m)
  }
  t.same(declared, METHODS, 'full method paths and streaming flags match')
  t.equal(
    Object.values(pkg).filter((def) => !('format' in def)).length,
    SERVICES.length,
    'exactly the six etcd services',
  )
})

t.test('the messages carry etcd’s field names, numbers and enums', async (t) => {
  // proto-loader lists messages and top-level enums; nested enums live in their
  // message's descriptor.
  const descriptor = (type: string) => {
    const def = pkg[type]
    if (def === undefined || !('format' in def) || def.format !== 'Protocol Buffer 3 DescriptorProto') throw new Error(`${type} is not a message`)
    return def.type as {
      field: { name: string; number: number }[]
      enumType: { name: string; value: { name: string; number: number }[] }[]
    }
  }
  const fields = (type: string): Record<string, number> => Object.fromEntries(descriptor(type).field.map((f) => [f.name, f.number]))
  const values = (type: string, name: string): Record<string, number> => {
    const e = descriptor(type).enumType.find((x) => x.name === name)
    return Object.fromEntries((e?.value ?? []).map((v) => [v.name, v.number]))
  }
  t.same(fields('etcdserverpb.ResponseHeader'), { cluster_id: 1, member_id: 2, revision: 3, raft_term: 4 })
  t.same(fields('mvccpb.KeyValue'), { key: 1, create_revision: 2, mod_revision: 3, version: 4, value: 5, lease: 6 })
  t.same(values('mvccpb.Event', 'EventType'), { PUT: 0, DELETE: 1 })
  t.same(fields('etcdserverpb.Compare'), {
    result: 1, target: 2, key: 3, version: 4, create_revision: 5, mod_revision: 6, value: 7, lease: 8, range_end: 64,
  })
  t.same(values('etcdserverpb.WatchCreateRequest', 'FilterType'), { NOPUT: 0, NODELETE: 1 })
  t.same(fields('etcdserverpb.WatchResponse'), {
    header: 1, watch_id: 2, created: 3, canceled: 4, compact_revision: 5, cancel_reason: 6, fragment: 7, events: 11,
  })
  t.same(fields('etcdserverpb.LeaseGrantRequest'), { TTL: 1, ID: 2 })
  t.same(fields('etcdserverpb.Member'), { ID: 1, name: 2, peerURLs: 3, clientURLs: 4, isLearner: 5 })
  t.match(fields('etcdserverpb.StatusResponse'), {
    header: 1, version: 2, dbSize: 3, leader: 4, raftIndex: 5, raftTerm: 6, raftAppliedIndex: 7, errors: 8, dbSizeInUse: 9, isLearner: 10,
  })
  t.same(fields('etcdserverpb.SnapshotResponse'), { header: 1, remaining_bytes: 2, blob: 3, version: 4 })
  t.same(values('etcdserverpb.Compare', 'CompareTarget'), { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 })
  t.same(values('etcdserverpb.RangeRequest', 'SortTarget'), { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 })
  t.same(fields('authpb.Permission'), { permType: 1, key: 2, range_end: 3 })
  t.same(values('authpb.Permission', 'Type'), { READ: 0, WRITE: 1, READWRITE: 2 })
})

t.test('the proto directory is found from a compiled module’s directory too', async (t) => {
  const dir = etcdProtoDir()
  t.equal(etcdProtoDir(join(dir, '..', '..', 'dist', 'src', 'kv')), dir)
  t.throws(() => etcdProtoDir('/'), /proto\/etcd not found/)
})

// ------------------------------------------------------------------ a real etcd

interface Header { cluster_id: string; member_id: string; revision: string; raft_term: string }
interface KeyValue { key: Buffer; create_revision: string; mod_revision: string; version: string; value: Buffer; lease: string }
interface RangeResponse { header: Header; kvs: KeyValue[]; more: boolean; count: string }
interface PutResponse { header: Header; prev_kv: KeyValue | null }
interface DeleteRangeResponse { header: Header; deleted: string; prev_kvs: KeyValue[] }
interface ResponseOp {
  response: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn'
  response_range?: RangeResponse
  response_put?: PutResponse
}
interface TxnResponse { header: Header; succeeded: boolean; responses: ResponseOp[] }
interface Event { type: 'PUT' | 'DELETE'; kv: KeyValue; prev_kv: KeyValue | null }
interface WatchResponse {
  header: Header; watch_id: string; created: boolean; canceled: boolean; compact_revision: string; cancel_reason: string; events: Event[]
}
interface LeaseGrantResponse { header: Header; ID: string; TTL: string; error: string }
interface LeaseKeepAliveResponse { header: Header; ID: string; TTL: string }
interface LeaseTimeToLiveResponse { header: Header; ID: string; TTL: string; grantedTTL: string; keys: Buffer[] }
interface LeaseLeasesResponse { header: Header; leases: { ID: string }[] }
interface StatusResponse {
  header: Header; version: string; dbSize: string; leader: string; raftIndex: string; raftTerm: string
  raftAppliedIndex: string; errors: string[]; dbSizeInUse: string; isLearner: boolean
}
interface Member { ID: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }
interface MemberListResponse { header: Header; members: Member[] }
interface SnapshotResponse { header: Header | null; remaining_bytes: string; blob: Buffer; version: string }

/** A grpc-js client for every etcd service, built from our package definition only. */
class EtcdClient {
  readonly client: grpc.Client

  constructor(readonly endpoint: string) {
    // No HTTP proxy: the server is on loopback.
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), { 'grpc.enable_http_proxy': 0 })
  }

  unary<T>(path: string, req: object, timeoutMs = 5000): Promise<T> {
    const m = method(path)
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res as T),
      )
    })
  }

  serverStream<T>(path: string, req: object): grpc.ClientReadableStream<T> {
    const m = method(path)
    return this.client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, req) as grpc.ClientReadableStream<T>
  }

  bidi<T>(path: string): grpc.ClientDuplexStream<object, T> {
    const m = method(path)
    return this.client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize) as grpc.ClientDuplexStream<object, T>
  }

  close(): void {
    this.client.close()
  }
}

/** Two distinct free loopback ports (both held open until both are known). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer()
      s.once('error', reject)
      s.listen(0, '127.0.0.1', () => resolve(s))
    })),
  )
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

/** The environment for etcd and etcdctl, without proxies (everything is on loopback). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const k of Object.keys(env)) if (/proxy/i.test(k) || k.startsWith('ETCD')) delete env[k]
  return env
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

function grpcError(err: unknown): { code: number; details: string } {
  const e = err as grpc.ServiceError
  return { code: e.code, details: e.details }
}

/** Reads a bidi/server stream until `done` says enough, or fails after `ms`. */
function collect<T>(stream: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<object, T>, done: (all: T[]) => boolean, ms = 5000): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const all: T[] = []
    const timer = setTimeout(() => reject(new Error(`stream: timed out after ${ms} ms with ${all.length} messages`)), ms)
    const finish = (err?: Error) => {
      clearTimeout(timer)
      stream.removeAllListeners('data')
      if (err) reject(err)
      else resolve(all)
    }
    stream.on('data', (m: T) => {
      all.push(m)
      if (done(all)) finish()
    })
    stream.on('error', (err: Error) => finish(err))
    stream.on('end', () => finish())
  })
}

t.test('a real etcd 3.4 answers a client built from our contract', async (t) => {
  if (!existsSync(ETCD) || !existsSync(ETCDCTL)) {
    t.fail(`${ETCD} or ${ETCDCTL} is missing: run bash scripts/install-deps.sh`)
    return
  }
  const [clientPort, peerPort] = await freePorts(2)
  const clientURL = `http://127.0.0.1:${clientPort}`
  const peerURL = `http://127.0.0.1:${peerPort}`
  const child = spawn(
    ETCD,
    [
      '--name', 'default',
      '--data-dir', join(t.testdir(), 'etcd'),
      '--listen-client-urls', clientURL,
      '--advertise-client-urls', clientURL,
      '--listen-peer-urls', peerURL,
      '--initial-advertise-peer-urls', peerURL,
      '--initial-cluster', `default=${peerURL}`,
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: cleanEnv() },
  )
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-8000)
  })
  const etcd = new EtcdClient(`127.0.0.1:${clientPort}`)
  t.teardown(async () => {
    etcd.close()
    child.kill('SIGKILL')
    await waitExit(child)
  })

  // Ready when Status answers.
  const readyBy = Date.now() + 15_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${stderr}`)
    try {
      await etcd.unary('/etcdserverpb.Maintenance/Status', {}, 1000)
      break
    } catch (err) {
      if (Date.now() > readyBy) throw new Error(`etcd did not answer within 15 s: ${stderr}`, { cause: err })
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  const KEY = '/contract/a'
  let firstRev = 0
  let headerOfPut: Header | undefined

  await t.test('Put then Range: a fresh store is at revision 1 and the first write makes revision 2', async (t) => {
    const put = await etcd.unary<PutResponse>('/etcdserverpb.KV/Put', { key: Buffer.from(KEY), value: Buffer.from('v1') })
    headerOfPut = put.header
    t.equal(put.header.revision, '2')
    t.not(put.header.cluster_id, '0', 'header.cluster_id is set')
    t.not(put.header.member_id, '0', 'header.member_id is set')
    t.not(put.header.raft_term, '0', 'header.raft_term is set')
    t.equal(put.prev_kv, null, 'no prev_kv unless asked for')
    firstRev = Number(put.header.revision)

    const got = await etcd.unary<RangeResponse>('/etcdserverpb.KV/Range', { key: Buffer.from(KEY) })
    t.equal(got.header.revision, '2')
    t.equal(got.count, '1')
    t.equal(got.more, false)
    t.equal(got.kvs.length, 1)
    t.equal(got.kvs[0].key.toString(), KEY)
    t.equal(got.kvs[0].value.toString(), 'v1')
    t.equal(got.kvs[0].create_revision, '2')
    t.equal(got.kvs[0].mod_revision, '2')
    t.equal(got.kvs[0].version, '1')
    t.equal(got.kvs[0].lease, '0')
  })

  await t.test('etcdctl get -w json shows the same revisions and the same uint64 ids', async (t) => {
    const out = spawnSync(ETCDCTL, ['--endpoints', clientURL, 'get', KEY, '-w', 'json'], { encoding: 'utf8', env: cleanEnv(), timeout: 10_000 })
    t.equal(out.status, 0, `etcdctl ran (${out.stderr})`)
    const json = JSON.parse(out.stdout) as { header: { revision: number }; kvs: { key: string; value: string; mod_revision: number; create_revision: number; version: number }[] }
    t.equal(json.header.revision, 2)
    t.equal(Buffer.from(json.kvs[0].key, 'base64').toString(), KEY)
    t.equal(Buffer.from(json.kvs[0].value, 'base64').toString(), 'v1')
    t.equal(json.kvs[0].mod_revision, 2)
    t.equal(json.kvs[0].create_revision, 2)
    t.equal(json.kvs[0].version, 1)
    // etcdctl prints uint64 ids as bare JSON numbers, beyond what JSON.parse keeps
    // exactly; read the digits from the text.
    t.equal(/"cluster_id":(\d+)/.exec(out.stdout)?.[1], headerOfPut?.cluster_id, 'same cluster_id')
    t.equal(/"member_id":(\d+)/.exec(out.stdout)?.[1], headerOfPut?.member_id, 'same member_id')
  })

  await t.test('Txn: a mod_revision compare picks the success or the failure branch', async (t) => {
    const ok = await etcd.unary<TxnResponse>('/etcdserverpb.KV/Txn', {
      compare: [{ result: 'EQUAL', target: 'MOD', key: Buffer.from(KEY), mod_revision: String(firstRev) }],
      success: [
        { request_put: { key: Buffer.from(KEY), value: Buffer.from('v2'), prev_kv: true } },
        { request_range: { key: Buffer.from(KEY) } },
      ],
      failure: [{ request_range: { key: Buffer.from(KEY) } }],
    })
    t.equal(ok.succeeded, true)
    t.equal(ok.header.revision, '3', 'a Txn that wrote adds one revision')
    t.equal(ok.responses.length, 2)
    t.equal(ok.responses[0].response, 'response_put', 'oneof names the branch')
    t.equal(ok.responses[0].response_put?.prev_kv?.value.toString(), 'v1')
    t.equal(ok.responses[1].response, 'response_range')
    const kv = ok.responses[1].response_range?.kvs[0]
    t.equal(kv?.value.toString(), 'v2', 'a Range after a Put in the same Txn sees the Put')
    t.equal(kv?.mod_revision, '3')
    t.equal(kv?.version, '2')
    t.equal(kv?.create_revision, '2')

    const stale = await etcd.unary<TxnResponse>('/etcdserverpb.KV/Txn', {
      compare: [{ result: 'EQUAL', target: 'MOD', key: Buffer.from(KEY), mod_revision: String(firstRev) }],
      success: [{ request_put: { key: Buffer.from(KEY), value: Buffer.from('lost') } }],
      failure: [{ request_range: { key: Buffer.from(KEY) } }],
    })
    t.equal(stale.succeeded, false)
    t.equal(stale.header.revision, '3', 'a Txn that only read adds no revision')
    t.equal(stale.responses.length, 1)
    t.equal(stale.responses[0].response, 'response_range')
    t.equal(stale.responses[0].response_range?.kvs[0].mod_revision, '3')
  })

  await t.test('DeleteRange with prev_kv returns the deleted key-value', async (t) => {
    const del = await etcd.unary<DeleteRangeResponse>('/etcdserverpb.KV/DeleteRange', { key: Buffer.from(KEY), prev_kv: true })
    t.equal(del.deleted, '1')
    t.equal(del.header.revision, '4')
    t.equal(del.prev_kvs.length, 1)
    t.equal(del.prev_kvs[0].value.toString(), 'v2')
    t.equal(del.prev_kvs[0].mod_revision, '3')
    const none = await etcd.unary<DeleteRangeResponse>('/etcdserverpb.KV/DeleteRange', { key: Buffer.from(KEY) })
    t.equal(none.deleted, '0')
    t.equal(none.header.revision, '4', 'deleting nothing adds no revision')
  })

  await t.test('Watch from a past revision replays PUT and DELETE events with prev_kv, then live ones', async (t) => {
    const stream = etcd.bidi<WatchResponse>('/etcdserverpb.Watch/Watch')
    t.teardown(() => stream.cancel())
    stream.on('error', () => {}) // the cancel above ends it with CANCELLED
    const events = (all: WatchResponse[]) => all.flatMap((r) => r.events)
    const history = collect(stream, (all) => events(all).length >= 3)
    stream.write({ create_request: { key: Buffer.from(KEY), start_revision: String(firstRev), prev_kv: true } })
    const got = await history
    t.equal(got[0].created, true, 'the first response confirms the watch')
    t.equal(got[0].events.length, 0)
    const watchId = got[0].watch_id
    t.ok(got.every((r) => r.watch_id === watchId), 'every response carries the watch id')
    const [put1, put2, del] = events(got)
    t.equal(put1.type, 'PUT')
    t.equal(put1.kv.value.toString(), 'v1')
    t.equal(put1.kv.mod_revision, '2')
    t.equal(put1.kv.version, '1', 'version 1: a creation')
    t.equal(put1.prev_kv, null, 'no prev_kv for a creation')
    t.equal(put2.type, 'PUT')
    t.equal(put2.kv.mod_revision, '3')
    t.equal(put2.prev_kv?.value.toString(), 'v1')
    t.equal(del.type, 'DELETE')
    t.equal(del.kv.key.toString(), KEY)
    t.equal(del.kv.mod_revision, '4', 'a DELETE event carries the revision of the deletion')
    t.equal(del.kv.version, '0')
    t.equal(del.kv.value.length, 0)
    t.equal(del.prev_kv?.value.toString(), 'v2')

    const live = collect(stream, (all) => all.some((r) => r.events.length > 0))
    await etcd.unary('/etcdserverpb.KV/Put', { key: Buffer.from(KEY), value: Buffer.from('v3') })
    const [resp] = (await live).filter((r) => r.events.length > 0)
    t.equal(resp.header.revision, '5', 'the response header is at the event revision')
    t.equal(resp.events[0].type, 'PUT')
    t.equal(resp.events[0].kv.create_revision, '5', 'recreated after the delete')
    t.equal(resp.events[0].kv.version, '1')
  })

  await t.test('Lease: grant, attach to a Put, keep alive, time-to-live with keys, revoke', async (t) => {
    const grant = await etcd.unary<LeaseGrantResponse>('/etcdserverpb.Lease/LeaseGrant', { TTL: 60 })
    t.equal(grant.TTL, '60')
    t.equal(grant.error, '')
    const id = BigInt(grant.ID)
    t.ok(id > 0n && id < 1n << 63n, 'a positive int64')
    // etcd's id generator puts uint16(member id) in bits 48..63, then clears bit 63.
    t.equal(id >> 48n, BigInt(grant.header.member_id) & 0x7fffn, 'bits 48..62 are the low 15 bits of the member id')
    t.comment(`lease id ${grant.ID} (${id > BigInt(Number.MAX_SAFE_INTEGER) ? 'above' : 'below'} 2^53)`)

    const put = await etcd.unary<PutResponse>('/etcdserverpb.KV/Put', { key: Buffer.from('/contract/leased'), value: Buffer.from('x'), lease: grant.ID })
    const got = await etcd.unary<RangeResponse>('/etcdserverpb.KV/Range', { key: Buffer.from('/contract/leased') })
    t.equal(got.kvs[0].lease, grant.ID, 'the key carries the exact lease id')
    t.equal(got.kvs[0].mod_revision, put.header.revision)

    const ka = etcd.bidi<LeaseKeepAliveResponse>('/etcdserverpb.Lease/LeaseKeepAlive')
    const kaResp = collect(ka, (all) => all.length >= 1)
    ka.write({ ID: grant.ID })
    const [alive] = await kaResp
    ka.end()
    t.equal(alive.ID, grant.ID)
    t.equal(alive.TTL, '60')

    const ttl = await etcd.unary<LeaseTimeToLiveResponse>('/etcdserverpb.Lease/LeaseTimeToLive', { ID: grant.ID, keys: true })
    t.equal(ttl.ID, grant.ID)
    t.equal(ttl.grantedTTL, '60')
    t.ok(Number(ttl.TTL) > 0 && Number(ttl.TTL) <= 60, `TTL ${ttl.TTL} in (0, 60]`)
    t.same(ttl.keys.map((k) => k.toString()), ['/contract/leased'])

    const leases = await etcd.unary<LeaseLeasesResponse>('/etcdserverpb.Lease/LeaseLeases', {})
    t.same(leases.leases.map((l) => l.ID), [grant.ID])

    await etcd.unary('/etcdserverpb.Lease/LeaseRevoke', { ID: grant.ID })
    const gone = await etcd.unary<LeaseTimeToLiveResponse>('/etcdserverpb.Lease/LeaseTimeToLive', { ID: grant.ID })
    t.equal(gone.TTL, '-1', 'a revoked lease reads TTL -1, not an error')
    const after = await etcd.unary<RangeResponse>('/etcdserverpb.KV/Range', { key: Buffer.from('/contract/leased') })
    t.equal(after.count, '0', 'revoking deleted the attached key')

    const err = await etcd.unary('/etcdserverpb.Lease/LeaseRevoke', { ID: grant.ID }).then(() => null, grpcError)
    t.same(err, { code: grpc.status.NOT_FOUND, details: 'etcdserver: requested lease not found' })
  })

  await t.test('Compact: older revisions answer OUT_OF_RANGE with etcd’s message, watches are canceled', async (t) => {
    const now = await etcd.unary<RangeResponse>('/etcdserverpb.KV/Range', { key: Buffer.from(KEY) })
    const rev = now.header.revision
    const compacted = await etcd.unary<{ header: Header }>('/etcdserverpb.KV/Compact', { revision: rev, physical: true })
    t.equal(compacted.header.revision, rev, 'compaction adds no revision')

    const old = await etcd.unary('/etcdserverpb.KV/Range', { key: Buffer.from(KEY), revision: String(firstRev) }).then(() => null, grpcError)
    t.same(old, { code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' })
    const again = await etcd.unary('/etcdserverpb.KV/Compact', { revision: rev }).then(() => null, grpcError)
    t.same(again, { code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision has been compacted' })
    const future = await etcd.unary('/etcdserverpb.KV/Range', { key: Buffer.from(KEY), revision: '1000000' }).then(() => null, grpcError)
    t.same(future, { code: grpc.status.OUT_OF_RANGE, details: 'etcdserver: mvcc: required revision is a future revision' })

    const stream = etcd.bidi<WatchResponse>('/etcdserverpb.Watch/Watch')
    t.teardown(() => stream.cancel())
    stream.on('error', () => {})
    const got = collect(stream, (all) => all.some((r) => r.canceled))
    stream.write({ create_request: { key: Buffer.from(KEY), start_revision: String(firstRev) } })
    const responses = await got
    // etcd 3.4 first confirms the watch (created), then cancels it in a second response
    // that carries compact_revision but no cancel_reason: clients (etcdctl) turn
    // compact_revision != 0 into the ErrCompacted text themselves.
    t.equal(responses.length, 2)
    t.match(responses[0], { created: true, canceled: false, compact_revision: '0', events: [] })
    t.match(responses[1], { created: false, canceled: true, compact_revision: rev, cancel_reason: '', events: [] })
    t.equal(responses[1].watch_id, responses[0].watch_id, 'the cancel names the created watch')
    t.equal(responses[0].watch_id, '0', 'the first watch on a stream gets id 0')
  })

  await t.test('Maintenance.Status: this member is the leader and runs 3.4', async (t) => {
    const st = await etcd.unary<StatusResponse>('/etcdserverpb.Maintenance/Status', {})
    t.equal(st.leader, st.header.member_id)
    t.match(st.version, /^3\.4\./)
    t.ok(Number(st.dbSize) > 0, 'dbSize')
    t.ok(Number(st.dbSizeInUse) > 0, 'dbSizeInUse')
    t.ok(Number(st.raftIndex) > 0, 'raftIndex')
    t.equal(st.raftTerm, st.header.raft_term)
    t.ok(Number(st.raftAppliedIndex) > 0, 'raftAppliedIndex')
    t.same(st.errors, [])
    t.equal(st.isLearner, false)
    t.comment(`status header ${JSON.stringify(st.header)}`)
  })

  await t.test('Cluster.MemberList: one member with our URLs', async (t) => {
    const list = await etcd.unary<MemberListResponse>('/etcdserverpb.Cluster/MemberList', {})
    t.equal(list.members.length, 1)
    const [m] = list.members
    t.equal(m.ID, list.header.member_id)
    t.equal(m.name, 'default')
    t.same(m.peerURLs, [peerURL])
    t.same(m.clientURLs, [clientURL])
    t.equal(m.isLearner, false)
  })

  await t.test('Maintenance.Snapshot streams the database then its sha256', async (t) => {
    const msgs = await collect(etcd.serverStream<SnapshotResponse>('/etcdserverpb.Maintenance/Snapshot', {}), () => false, 10_000)
    t.ok(msgs.length >= 2, `${msgs.length} messages`)
    const data = msgs.slice(0, -1)
    const db = Buffer.concat(data.map((m) => m.blob))
    t.ok(db.length > 0, `${db.length} bytes of database`)
    t.equal(data[data.length - 1].remaining_bytes, '0', 'remaining_bytes counts down to 0')
    t.equal(Number(data[0].remaining_bytes), db.length - data[0].blob.length, 'remaining_bytes excludes the message’s own blob')
    const last = msgs[msgs.length - 1]
    t.equal(last.remaining_bytes, '0')
    t.same(last.blob, createHash('sha256').update(db).digest(), 'the last message is the sha256 of the database')
    t.equal(db.readUInt32LE(16), 0xed0cdaed, 'the database is a bbolt file (magic in the meta page)')
    t.ok(msgs.every((m) => m.header === null), 'etcd 3.4 sends no header in snapshot messages')
  })
})
