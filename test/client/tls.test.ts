// RestClient over HTTPS: server verified against a CA, client certificate
// authentication, and insecureSkipVerify. Certificates are made with openssl.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { join } from 'node:path'
import t from 'tap'
import { ConnectionError } from '../../src/client/errors.js'
import { RestClient } from '../../src/client/rest.js'
import { NODES } from './helpers.js'

const OPENSSL = '/usr/bin/openssl'
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']

function makeCerts(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', Buffer> {
  const run = (...args: string[]): void => void execFileSync(OPENSSL, args, { cwd: dir, stdio: 'ignore' })
  run('req', '-x509', ...EC_KEY, '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt')
  for (const [name, cn, ext] of [
    ['server', 'apiserver', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'system:node:n1', 'extendedKeyUsage=clientAuth'],
  ]) {
    run('req', ...EC_KEY, '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`)
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`)
  }
  const read = (f: string): Buffer => readFileSync(join(dir, f))
  return { ca: read('ca.crt'), serverCert: read('server.crt'), serverKey: read('server.key'), clientCert: read('client.crt'), clientKey: read('client.key') }
}

t.test('HTTPS with a CA, client certificates, and insecureSkipVerify', { skip: !existsSync(OPENSSL) && 'openssl not installed' }, async (t) => {
  const certs = makeCerts(t.testdir())
  const seen: (string | undefined)[] = []
  const server = https.createServer({ cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate()
    const cn = peer.subject?.CN
    seen.push(Array.isArray(cn) ? cn[0] : cn)
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] }))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise<void>((r) => server.close(() => r()))
  })
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`

  const verified = new RestClient({ urls: url, tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } })
  t.teardown(() => verified.close())
  t.equal((await verified.resource(NODES).list()).metadata.resourceVersion, '1')
  t.equal(seen.at(-1), 'system:node:n1', 'the client certificate was presented')

  const untrusting = new RestClient({ urls: url, maxRetries: 0 })
  t.teardown(() => untrusting.close())
  const err = await untrusting.resource(NODES).list().catch((e: unknown) => e)
  t.ok(err instanceof ConnectionError, 'an unknown CA is refused')
  t.match((err as ConnectionError).message, /certificate/)

  const insecure = new RestClient({ urls: url, tls: { insecureSkipVerify: true } })
  t.teardown(() => insecure.close())
  t.equal((await insecure.resource(NODES).list()).items.length, 0)
  t.equal(seen.at(-1), undefined, 'no client certificate configured, none sent')
})
