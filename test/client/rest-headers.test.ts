// RestClient's `headers` option and withOptions(): extra headers on every request, a
// header function asked again for every attempt (a retry carries what holds then),
// a function that throws refusing the request before anything is sent, and a variant
// client made from another's options.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { ApiError } from '../../src/client/errors.js'
import { RestClient } from '../../src/client/rest.js'

interface Recorder {
  url: string
  requests: http.IncomingHttpHeaders[]
  /** Answer this many requests with 503 first. */
  failNext: number
}

async function recorder(t: Test): Promise<Recorder> {
  const rec: Recorder = { url: '', requests: [], failNext: 0 }
  const server = http.createServer((req, res) => {
    rec.requests.push(req.headers)
    req.resume()
    req.on('end', () => {
      if (rec.failNext > 0) {
        rec.failNext--
        res.writeHead(503, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: 'busy' }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  rec.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return rec
}

t.test('static headers go on every request, beside the defaults', async (t) => {
  const rec = await recorder(t)
  const client = new RestClient({ urls: rec.url, token: 'tok', headers: { 'X-Team': 'a' } })
  t.teardown(() => client.close())
  await client.request({ method: 'GET', path: '/api/v1/namespaces/default/configmaps/x' })
  await client.request({ method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: { a: 1 } })
  for (const h of rec.requests) {
    t.equal(h['x-team'], 'a')
    t.equal(h.authorization, 'Bearer tok', 'defaults kept')
  }
  t.equal(rec.requests[1]?.['content-type'], 'application/json', "the request's own content type wins")
})

t.test('a header function is called for every attempt, retries included', async (t) => {
  const rec = await recorder(t)
  let n = 0
  const client = new RestClient({ urls: rec.url, backoff: { initialMs: 1, maxMs: 2 }, headers: () => ({ 'X-Attempt': String(++n) }) })
  t.teardown(() => client.close())
  rec.failNext = 2
  await client.request({ method: 'GET', path: '/x' })
  t.same(
    rec.requests.map((h) => h['x-attempt']),
    ['1', '2', '3'],
    'each retry asked again',
  )
  const none = new RestClient({ urls: rec.url, headers: () => undefined })
  t.teardown(() => none.close())
  await none.request({ method: 'GET', path: '/y' })
  t.equal(rec.requests.at(-1)?.['x-attempt'], undefined, 'undefined adds nothing')
})

t.test('a header function that throws refuses the request before it is sent', async (t) => {
  const rec = await recorder(t)
  const refusal = new ApiError({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 409, reason: 'Conflict', message: 'no' })
  const client = new RestClient({
    urls: rec.url,
    headers: () => {
      throw refusal
    },
  })
  t.teardown(() => client.close())
  const err = await client.request({ method: 'POST', path: '/x', body: {} }).catch((e: unknown) => e)
  t.equal(err, refusal, 'the thrown error reaches the caller as is')
  await t.rejects(client.stream({ method: 'GET', path: '/x' }), refusal, 'streams too')
  t.equal(rec.requests.length, 0, 'nothing reached the server')
})

t.test('withOptions makes a variant with the same options, the named ones replaced', async (t) => {
  const rec = await recorder(t)
  const base = new RestClient({ urls: rec.url, token: 'tok', userAgent: 'base/1', headers: { 'X-A': '1' } })
  const variant = base.withOptions({ headers: { 'X-B': '2' } })
  t.teardown(() => {
    base.close()
    variant.close()
  })
  t.not(variant, base)
  t.equal(variant.options.token, 'tok')
  t.same(base.options.headers, { 'X-A': '1' }, 'the base keeps its own')
  await variant.request({ method: 'GET', path: '/x' })
  const h = rec.requests[0]!
  t.equal(h.authorization, 'Bearer tok')
  t.equal(h['user-agent'], 'base/1')
  t.equal(h['x-b'], '2')
  t.equal(h['x-a'], undefined, 'headers replaced, not merged')
})
