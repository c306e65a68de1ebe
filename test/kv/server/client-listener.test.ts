// The client port: gRPC and HTTP/1 on one socket; a Go-style URL :authority
// ("http://host:port", which Node's HTTP/2 refuses) is rewritten to host:port.
import * as grpc from '@grpc/grpc-js'
import http2 from 'node:http2'
import t from 'tap'
import { fixAuthority, sniffH2 } from '../../../src/kv/server/authority-fix.js'
import { ClientListener } from '../../../src/kv/server/client-listener.js'
import { H2GrpcServer } from '../../../src/kv/server/h2grpc/index.js'
import { loadEtcdProto } from '../../../src/kv/etcd-proto.js'

t.test('fixAuthority', async (t) => {
  t.equal(fixAuthority('http://127.0.0.1:2379'), '127.0.0.1:2379')
  t.equal(fixAuthority('https://[::1]:2379/'), '[::1]:2379')
  t.equal(fixAuthority('127.0.0.1:2379'), '127.0.0.1:2379')
  t.equal(fixAuthority('localhost'), 'localhost')
  t.same(sniffH2(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')), {}, 'nothing yet')
})

async function serve(t: { teardown(fn: () => unknown): void }) {
  const server = new H2GrpcServer()
  const def = loadEtcdProto()
  server.addService(def['etcdserverpb.KV'] as grpc.ServiceDefinition, {
    Range: (call: grpc.ServerUnaryCall<{ key: Buffer }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb(null, { kvs: [{ key: call.request.key, value: Buffer.from(`authority ${call.getHost?.() ?? ''}`) }], count: 1 }),
  })
  const listener = await ClientListener.listen({
    host: '127.0.0.1',
    port: 0,
    grpcServer: server,
    http: (_req, res) => res.end('plain http'),
  })
  t.teardown(async () => {
    await server.close()
    await listener.close()
  })
  return listener.port
}

/** One gRPC Range over raw HTTP/2 with the given :authority; resolves with grpc-status and the body length. */
function rawRange(port: number, authority: string): Promise<{ status: string | undefined; bytes: number }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`)
    session.on('error', reject)
    const req = session.request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Range', ':authority': authority, 'content-type': 'application/grpc', te: 'trailers' })
    let bytes = 0
    let status: string | undefined
    req.on('data', (d: Buffer) => (bytes += d.length))
    req.on('trailers', (h) => (status = h['grpc-status'] as string))
    req.on('error', reject)
    req.on('close', () => {
      session.close()
      resolve({ status, bytes })
    })
    const msg = Buffer.from([0x0a, 0x03, 0x66, 0x6f, 0x6f]) // RangeRequest{key: "foo"}
    const frame = Buffer.alloc(5 + msg.length)
    frame.writeUInt32BE(msg.length, 1)
    msg.copy(frame, 5)
    req.end(frame)
  })
}

t.test('gRPC with a host:port or a URL :authority, and HTTP/1 on the same port', async (t) => {
  const port = await serve(t)
  for (const authority of [`127.0.0.1:${port}`, `http://127.0.0.1:${port}`]) {
    const r = await rawRange(port, authority)
    t.equal(r.status, '0', `${authority}: grpc-status OK`)
    t.ok(r.bytes > 5, `${authority}: a response message`)
  }
  const res = await fetch(`http://127.0.0.1:${port}/health`)
  t.equal(await res.text(), 'plain http')
  const pkg = grpc.loadPackageDefinition(loadEtcdProto()) as unknown as { etcdserverpb: { KV: new (a: string, c: grpc.ChannelCredentials) => grpc.Client } }
  const client = new pkg.etcdserverpb.KV(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & {
    Range(r: unknown, cb: (e: Error | null, r: { count: string }) => void): void
  }
  const got = await new Promise<{ count: string }>((resolve, reject) => client.Range({ key: Buffer.from('k') }, (e, r) => (e ? reject(e) : resolve(r))))
  t.equal(got.count, '1', 'grpc-js client')
  client.close()
})
