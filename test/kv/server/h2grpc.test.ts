// H2GrpcServer (src/kv/server/h2grpc/) driven by the real grpc-js client, raw
// node:http2 and raw TCP (for what a well-behaved client never sends), and etcdctl 3.4.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as http2 from 'node:http2'
import { connect, createServer, type Server, type Socket } from 'node:net'
import * as grpc from '@grpc/grpc-js'
import t from 'tap'
import { loadEtcdProto } from '../../../src/kv/etcd-proto.js'
import { H2GrpcServer } from '../../../src/kv/server/h2grpc/index.js'

type Wire = Record<string, unknown>
type Ctor = new (address: string, creds: grpc.ChannelCredentials, opts?: object) => grpc.Client
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClient = any

const ETCDCTL = '/usr/bin/etcdctl'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const HEADER = { cluster_id: '1', member_id: '2', revision: '7', raft_term: '3' }

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

/** What the fake handlers saw, for the server-side assertions. */
const seen = {
  slowCancelled: 0,
  bidiCancelled: 0,
  bidiClosed: 0,
  writeFalse: 0,
  snapshotWrites: 0,
}

const SNAP_CHUNKS = 200
const SNAP_CHUNK = 32 * 1024

function services(server: { addService(d: grpc.ServiceDefinition, i: grpc.UntypedServiceImplementation): void }): void {
  const def = loadEtcdProto()
  server.addService(def['etcdserverpb.KV'] as grpc.ServiceDefinition, {
    Range: (call: grpc.ServerUnaryCall<Wire, Wire>, cb: grpc.sendUnaryData<Wire>) => {
      const key = (call.request.key as Buffer).toString()
      if (key.startsWith('fail:')) {
        const [, code, ...details] = key.split(':')
        cb({ code: Number(code), details: details.join(':'), message: 'ignored' } as grpc.ServiceError)
        return
      }
      if (key === 'slow') {
        call.on('cancelled', () => seen.slowCancelled++)
        return // never answers
      }
      if (key === 'throw') throw new Error('boom')
      if (key === 'later') {
        setTimeout(() => cb(null, { header: HEADER, kvs: [{ key: Buffer.from(key), value: Buffer.from('v') }], count: '1' }), 1)
        return
      }
      cb(null, { header: HEADER, kvs: [{ key: Buffer.from(key), value: Buffer.from('bar'), create_revision: '5', mod_revision: '7', version: '2' }], count: '1' })
    },
  })
  server.addService(def['etcdserverpb.Maintenance'] as grpc.ServiceDefinition, {
    // As maintenance-service.ts streams snapshots.
    Snapshot: (call: grpc.ServerWritableStream<Wire, Wire>) => {
      void (async () => {
        for (let i = 0; i < SNAP_CHUNKS && !call.cancelled; i++) {
          seen.snapshotWrites++
          const blob = Buffer.alloc(SNAP_CHUNK, i % 251)
          if (!call.write({ remaining_bytes: (SNAP_CHUNKS - i - 1) * SNAP_CHUNK, blob })) {
            seen.writeFalse++
            await new Promise((r) => call.once('drain', r))
          }
        }
        if (call.cancelled) return
        call.end()
      })()
    },
  })
  server.addService(def['etcdserverpb.Lease'] as grpc.ServiceDefinition, {
    // As lease-service.ts's LeaseKeepAlive: answers each request, ends after the client does.
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<Wire, Wire>) => {
      let chain = Promise.resolve()
      call.on('data', (req: Wire) => {
        const id = String(req.ID)
        if (id === '999') {
          call.destroy(Object.assign(new Error('etcdserver: requested lease not found'), { code: grpc.status.NOT_FOUND, details: 'etcdserver: requested lease not found' }))
          return
        }
        chain = chain.then(async () => {
          await sleep(Number(id) % 3)
          if (!call.writableEnded && !call.destroyed) call.write({ header: HEADER, ID: id, TTL: String(Number(id) * 2) })
        })
      })
      call.on('end', () => void chain.then(() => call.end()))
      call.on('error', () => undefined)
    },
  })
  server.addService(def['etcdserverpb.Watch'] as grpc.ServiceDefinition, {
    // As watch/grpc.ts uses its call: write callbacks, 'cancelled'/'close', emit('error', status).
    Watch: (call: grpc.ServerDuplexStream<Wire, Wire>) => {
      call.on('data', (req: Wire) => {
        const create = req.create_request as Wire | undefined
        if (create && (create.key as Buffer).toString() === 'stop') {
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'etcdserver: server stopped' })
          return
        }
        const id = String(create?.watch_id ?? '0')
        call.write({ header: HEADER, watch_id: id, created: true }, () => {
          call.write({ header: HEADER, watch_id: id, events: [{ type: 'PUT', kv: { key: Buffer.from('k'), value: Buffer.from('v') } }] })
        })
      })
      call.on('cancelled', () => seen.bidiCancelled++)
      call.on('close', () => seen.bidiClosed++)
      call.on('error', () => undefined)
    },
  })
}

function listen(srv: H2GrpcServer): Promise<{ net: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>()
  const net = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    srv.handleConnection(socket)
  })
  return new Promise((resolve) => net.listen(0, '127.0.0.1', () => resolve({ net, port: (net.address() as { port: number }).port, sockets })))
}

function unary(client: AnyClient, method: string, req: Wire, opts: grpc.CallOptions = {}): Promise<Wire> {
  return new Promise((resolve, reject) => client[method](req, opts, (err: grpc.ServiceError | null, res: Wire) => (err ? reject(err) : resolve(res))))
}

const FRAME = (msg: Buffer, flag = 0) => {
  const b = Buffer.alloc(5 + msg.length)
  b[0] = flag
  b.writeUInt32BE(msg.length, 1)
  msg.copy(b, 5)
  return b
}

interface RawResult {
  headers: http2.IncomingHttpHeaders
  trailers: http2.IncomingHttpHeaders
  body: Buffer
}

function rawCall(session: http2.ClientHttp2Session, path: string, chunks: Buffer[], extra: http2.OutgoingHttpHeaders = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra })
    let headers: http2.IncomingHttpHeaders = {}
    let trailers: http2.IncomingHttpHeaders = {}
    const body: Buffer[] = []
    s.on('response', (h) => (headers = h))
    s.on('trailers', (h) => (trailers = h))
    s.on('data', (d: Buffer) => body.push(d))
    s.on('error', reject)
    s.on('close', () => resolve({ headers, trailers, body: Buffer.concat(body) }))
    void (async () => {
      for (const c of chunks) {
        s.write(c)
        await sleep(2)
      }
      s.end()
    })()
  })
}

const statusOf = (r: RawResult) => ({
  code: r.trailers['grpc-status'] ?? r.headers['grpc-status'],
  message: decodeURIComponent(String(r.trailers['grpc-message'] ?? r.headers['grpc-message'] ?? '')),
})

t.test('H2GrpcServer', async (t) => {
  const srv = new H2GrpcServer({ maxReceiveMessageLength: 64 * 1024, closeGraceMs: 100, keepaliveTimeMs: 500, keepaliveTimeoutMs: 1500 })
  services(srv)
  const { net, port } = await listen(srv)
  const addr = `127.0.0.1:${port}`
  const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: Record<string, Ctor> }
  const opts = { 'grpc.enable_http_proxy': 0 }
  const kv: AnyClient = new pkg.etcdserverpb.KV!(addr, grpc.credentials.createInsecure(), opts)
  const maint: AnyClient = new pkg.etcdserverpb.Maintenance!(addr, grpc.credentials.createInsecure(), opts)
  const lease: AnyClient = new pkg.etcdserverpb.Lease!(addr, grpc.credentials.createInsecure(), opts)
  const watch: AnyClient = new pkg.etcdserverpb.Watch!(addr, grpc.credentials.createInsecure(), opts)
  const auth: AnyClient = new pkg.etcdserverpb.Auth!(addr, grpc.credentials.createInsecure(), opts)
  const raw = http2.connect(`http://${addr}`)
  raw.on('error', () => undefined)
  t.teardown(async () => {
    for (const c of [kv, maint, lease, watch, auth]) c.close()
    raw.destroy()
    await srv.close()
    await new Promise((r) => net.close(r))
  })

  await t.test('unary ok', async (t) => {
    const res = await unary(kv, 'Range', { key: Buffer.from('foo') })
    t.match(res, { header: HEADER, count: '1', kvs: [{ key: Buffer.from('foo'), value: Buffer.from('bar'), mod_revision: '7' }] })
    t.match(await unary(kv, 'Range', { key: Buffer.from('later') }), { count: '1' })
  })

  await t.test('unary errors keep code and details (non-ASCII, %)', async (t) => {
    for (const [code, details] of [
      [grpc.status.NOT_FOUND, 'etcdserver: requested lease not found'],
      [grpc.status.INVALID_ARGUMENT, 'ünïcødé ✓ 100% done %41 %%'],
      [grpc.status.FAILED_PRECONDITION, 'line1\nline2\ttab'],
    ] as const) {
      const err = await unary(kv, 'Range', { key: Buffer.from(`fail:${code}:${details}`) }).catch((e: grpc.ServiceError) => e)
      t.match(err, { code, details })
    }
    const err = await unary(kv, 'Range', { key: Buffer.from('throw') }).catch((e: grpc.ServiceError) => e)
    t.match(err, { code: grpc.status.UNKNOWN, details: /boom/ })
  })

  await t.test('unknown service and method: UNIMPLEMENTED in grpc-go’s words', async (t) => {
    const err = await unary(kv, 'Put', { key: Buffer.from('x') }).catch((e: grpc.ServiceError) => e)
    t.match(err, { code: grpc.status.UNIMPLEMENTED, details: 'unknown method Put for service etcdserverpb.KV' })
    const err2 = await unary(auth, 'AuthStatus', {}).catch((e: grpc.ServiceError) => e)
    t.match(err2, { code: grpc.status.UNIMPLEMENTED, details: 'unknown service etcdserverpb.Auth' })
  })

  await t.test('deadline exceeded', async (t) => {
    const before = seen.slowCancelled
    const err = await unary(kv, 'Range', { key: Buffer.from('slow') }, { deadline: Date.now() + 150 }).catch((e: grpc.ServiceError) => e)
    t.match(err, { code: grpc.status.DEADLINE_EXCEEDED })
    await waitFor('server cancel', () => seen.slowCancelled === before + 1)
    // The server's own timer (no client-side deadline): grpc-timeout 100 ms.
    const r = await rawCall(raw, '/etcdserverpb.KV/Range', [FRAME(Buffer.from([0x0a, 0x04, 0x73, 0x6c, 0x6f, 0x77]))], { 'grpc-timeout': '100m' })
    t.same(statusOf(r), { code: '4', message: 'context deadline exceeded' })
    await waitFor('server cancel', () => seen.slowCancelled === before + 2)
  })

  await t.test('server streaming with backpressure, slow reader', async (t) => {
    seen.writeFalse = 0
    const call = maint.Snapshot({})
    const got: number[] = []
    let ok = true
    await new Promise<void>((resolve, reject) => {
      call.on('data', (m: Wire) => {
        const blob = m.blob as Buffer
        if (blob.length !== SNAP_CHUNK || blob[0] !== got.length % 251 || blob[SNAP_CHUNK - 1] !== got.length % 251) ok = false
        got.push(Number(m.remaining_bytes))
        if (got.length % 20 === 0) {
          call.pause()
          setTimeout(() => call.resume(), 30)
        }
      })
      call.on('error', reject)
      call.on('end', resolve)
    })
    t.equal(got.length, SNAP_CHUNKS)
    t.ok(ok, 'blobs intact and in order')
    t.same(got, Array.from({ length: SNAP_CHUNKS }, (_, i) => (SNAP_CHUNKS - i - 1) * SNAP_CHUNK))
    t.ok(seen.writeFalse > 0, `write() returned false ${seen.writeFalse} times`)
  })

  await t.test('bidi: interleaved answers, destroy(err) ends with that status', async (t) => {
    const call = lease.LeaseKeepAlive()
    const got: Wire[] = []
    call.on('data', (m: Wire) => got.push(m))
    const done = new Promise<void>((resolve, reject) => {
      call.on('error', reject)
      call.on('end', resolve)
    })
    for (let i = 1; i <= 5; i++) {
      call.write({ ID: String(i) })
      await waitFor(`answer ${i}`, () => got.length === i)
    }
    for (let i = 6; i <= 50; i++) call.write({ ID: String(i) })
    call.end()
    await done
    t.same(
      got.map((m) => [m.ID, m.TTL]),
      Array.from({ length: 50 }, (_, i) => [String(i + 1), String((i + 1) * 2)]),
    )
    const bad = lease.LeaseKeepAlive()
    bad.on('data', () => undefined)
    const err = new Promise<grpc.ServiceError>((resolve) => bad.on('error', resolve))
    bad.write({ ID: '999' })
    t.match(await err, { code: grpc.status.NOT_FOUND, details: 'etcdserver: requested lease not found' })
  })

  await t.test('watch-style bidi: write callbacks, cancel seen by the server, emit(error) status', async (t) => {
    const before = { c: seen.bidiCancelled, x: seen.bidiClosed }
    const call = watch.Watch()
    const got: Wire[] = []
    call.on('data', (m: Wire) => got.push(m))
    call.on('error', () => undefined)
    call.write({ create_request: { key: Buffer.from('a'), watch_id: '1' } })
    call.write({ create_request: { key: Buffer.from('b'), watch_id: '2' } })
    await waitFor('4 responses', () => got.length === 4)
    t.same(got.map((m) => m.watch_id).sort(), ['1', '1', '2', '2'])
    call.cancel()
    await waitFor('server cancelled', () => seen.bidiCancelled === before.c + 1 && seen.bidiClosed === before.x + 1)
    t.pass('server saw cancelled and close')

    const stop = watch.Watch()
    stop.on('data', () => undefined)
    const err = new Promise<grpc.ServiceError>((resolve) => stop.on('error', resolve))
    stop.write({ create_request: { key: Buffer.from('stop') } })
    t.match(await err, { code: grpc.status.UNAVAILABLE, details: 'etcdserver: server stopped' })
  })

  await t.test('1,000 concurrent unary calls', async (t) => {
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`)
    const res = await Promise.all(keys.map((k) => unary(kv, 'Range', { key: Buffer.from(k) })))
    t.same(
      res.map((r) => ((r.kvs as Wire[])[0]!.key as Buffer).toString()),
      keys,
    )
  })

  await t.test('a message over the size limit: RESOURCE_EXHAUSTED', async (t) => {
    const err = await unary(kv, 'Range', { key: Buffer.alloc(70_000, 97) }).catch((e: grpc.ServiceError) => e)
    t.match(err, { code: grpc.status.RESOURCE_EXHAUSTED, details: 'grpc: received message larger than max (70004 vs. 65536)' })
    t.match(await unary(kv, 'Range', { key: Buffer.from('after') }), { count: '1' }, 'the connection still serves')
  })

  await t.test('bytes that are not a message, compression, split and packed frames', async (t) => {
    const garbage = await rawCall(raw, '/etcdserverpb.KV/Range', [FRAME(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))])
    t.match(statusOf(garbage), { code: '13', message: /^grpc: error unmarshalling request: / })
    t.equal(garbage.headers[':status'], 200)
    const compressed = await rawCall(raw, '/etcdserverpb.KV/Range', [FRAME(Buffer.from([0x0a, 0x01, 0x61]), 1)])
    t.same(statusOf(compressed), { code: '13', message: 'grpc: compressed flag set with identity or empty encoding' })
    const gz = await rawCall(raw, '/etcdserverpb.KV/Range', [FRAME(Buffer.from([0x0a, 0x01, 0x61]), 1)], { 'grpc-encoding': 'gzip' })
    t.same(statusOf(gz), { code: '12', message: 'grpc: Decompressor is not installed for grpc-encoding "gzip"' })
    const badPath = await rawCall(raw, '/nothing', [])
    t.same(statusOf(badPath), { code: '12', message: 'malformed method name: "/nothing"' })
    const badCt = await rawCall(raw, '/etcdserverpb.KV/Range', [], { 'content-type': 'text/plain' })
    t.equal(badCt.headers[':status'], 415)

    // One message a byte at a time.
    const msg = FRAME(Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63]))
    const split = await rawCall(raw, '/etcdserverpb.KV/Range', [...msg].map((b) => Buffer.from([b])))
    t.same(statusOf(split), { code: '0', message: '' })
    t.ok(split.body.includes(Buffer.from('abc')))
    // Two messages in one DATA frame, on a unary method: a protocol violation.
    const two = await rawCall(raw, '/etcdserverpb.KV/Range', [Buffer.concat([msg, msg])])
    t.equal(statusOf(two).code, '13')
    // A body cut short.
    const cut = await rawCall(raw, '/etcdserverpb.KV/Range', [msg.subarray(0, 6)])
    t.same(statusOf(cut), { code: '13', message: 'grpc: error reading request: unexpected EOF' })
    // Three keep-alives in one chunk, then the rest split across chunks.
    const ka = (id: number) => FRAME(Buffer.from([0x08, id]))
    const all = Buffer.concat([ka(1), ka(2), ka(3), ka(4), ka(5)])
    const bidi = await rawCall(raw, '/etcdserverpb.Lease/LeaseKeepAlive', [all.subarray(0, 21), all.subarray(21, 23), all.subarray(23)])
    t.same(statusOf(bidi), { code: '0', message: '' })
    t.equal(bidi.body.length > 0, true)
    let n = 0
    for (let at = 0; at < bidi.body.length; at += 5 + bidi.body.readUInt32BE(at + 1)) n++
    t.equal(n, 5, 'five answers')
  })

  await t.test('the process survives resets and broken connections', async (t) => {
    const before = seen.bidiCancelled
    // Streams reset mid-message and after a message.
    for (let i = 0; i < 20; i++) {
      const s = raw.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc' })
      s.on('error', () => undefined)
      s.write(FRAME(Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x61])).subarray(0, i % 2 === 0 ? 3 : 10))
      await sleep(2)
      s.close(i % 2 === 0 ? http2.constants.NGHTTP2_CANCEL : http2.constants.NGHTTP2_PROTOCOL_ERROR)
    }
    await waitFor('cancels', () => seen.bidiCancelled === before + 20)
    // Sockets: closed mid-frame, garbage instead of a preface, a preface then garbage frames.
    const sends = [
      Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), Buffer.from([0, 0, 40, 1, 4, 0, 0, 0, 1, 1, 2])]),
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), Buffer.alloc(64, 0xee)]),
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r'),
    ]
    for (const bytes of sends) {
      await new Promise<void>((resolve) => {
        const sock = connect(port, '127.0.0.1', () => {
          sock.write(bytes)
          setTimeout(() => sock.destroy(), 20)
        })
        sock.on('error', () => undefined)
        sock.on('close', () => resolve())
      })
    }
    // A session torn down with calls in flight.
    const sock = connect(port, '127.0.0.1')
    sock.on('error', () => undefined)
    const doomed = http2.connect(`http://${addr}`, { createConnection: () => sock })
    doomed.on('error', () => undefined)
    const s = doomed.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc' })
    s.on('error', () => undefined)
    s.write(FRAME(Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0x61])))
    await waitFor('answer', () => s.readableLength > 0, 2000).catch(() => undefined)
    sock.destroy()
    await waitFor('cancel', () => seen.bidiCancelled === before + 21)
    t.match(await unary(kv, 'Range', { key: Buffer.from('alive') }), { count: '1' }, 'still serving')
    // The connection sent a bad frame is reaped by the keepalive ping going unanswered.
    await waitFor('sessions closed', () => srv.sessionCount === 2).catch(() => undefined)
    t.equal(srv.sessionCount, 2, 'only the grpc-js channel and the raw session remain')
  })

  await t.test('etcdctl 3.4 (grpc-go) is happy', { skip: existsSync(ETCDCTL) ? false : 'no etcdctl' }, async (t) => {
    const run = (...args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) =>
        execFile(ETCDCTL, ['--endpoints', addr, '--dial-timeout', '3s', '--command-timeout', '3s', ...args], { env: { ...process.env, ETCDCTL_API: '3' } }, (e, out, err) =>
          resolve({ code: e ? Number(e.code ?? 1) : 0, out, err }),
        ),
      )
    const ok = await run('get', 'foo')
    t.same(ok, { code: 0, out: 'foo\nbar\n', err: '' })
    const json = await run('get', 'foo', '-w', 'json')
    t.match(JSON.parse(json.out), { header: { revision: 7, raft_term: 3 }, count: 1 })
    const bad = await run('get', 'fail:5:etcdserver: key not found ✓ 50%')
    t.equal(bad.code, 1)
    t.match(bad.err, 'etcdserver: key not found ✓ 50%')
    const none = await run('put', 'a', 'b')
    t.match(none.err, 'unknown method Put for service etcdserverpb.KV')
  })

  await t.test('close ends calls with UNAVAILABLE', async (t) => {
    const srv2 = new H2GrpcServer({ closeGraceMs: 100 })
    services(srv2)
    const l = await listen(srv2)
    const c: AnyClient = new pkg.etcdserverpb.Watch!(`127.0.0.1:${l.port}`, grpc.credentials.createInsecure(), opts)
    const k: AnyClient = new pkg.etcdserverpb.KV!(`127.0.0.1:${l.port}`, grpc.credentials.createInsecure(), opts)
    const call = c.Watch()
    const got: Wire[] = []
    call.on('data', (m: Wire) => got.push(m))
    const err = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve))
    call.write({ create_request: { key: Buffer.from('a') } })
    await waitFor('watch answers', () => got.length === 2)
    const pending = unary(k, 'Range', { key: Buffer.from('slow') }).catch((e: grpc.ServiceError) => e)
    await waitFor('two calls', () => srv2.calls.size === 2)
    await srv2.close()
    t.match(await err, { code: grpc.status.UNAVAILABLE })
    t.match(await pending, { code: grpc.status.UNAVAILABLE })
    t.equal(srv2.sessionCount, 0)
    t.equal(srv2.calls.size, 0)
    c.close()
    k.close()
    l.sockets.forEach((s) => s.destroy())
    await new Promise((r) => l.net.close(r))
  })
})
