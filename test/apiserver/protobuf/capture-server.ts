// A stand-in API server for capturing the request bodies the real kubectl sends:
// /version, our discovery and OpenAPI documents, canned objects for the GETs a test
// names, and every other request answered with a plausible object (the kind its URL
// names) while its raw body is recorded. Plus a kubeconfig (plain http) and a kubectl
// runner that keeps kubectl's caches in a temporary directory.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { apiVersionOf, findResource } from '../../../src/api/resources.js'
import { discoveryDocuments } from '../../../src/apiserver/discovery/documents.js'
import { openapiDocuments } from '../../../src/apiserver/openapi/index.js'

export const KUBECTL = '/usr/bin/kubectl'

// minor must be "32": the kubectl at /usr/bin dispatches on the server's minor version.
const VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' }

export interface Captured {
  method: string
  url: string
  contentType: string | undefined
  body: Buffer
}

export interface KubectlResult {
  code: number
  stdout: string
  stderr: string
}

export interface CaptureServer {
  /** Temporary directory for the test's own files too; removed by close(). */
  dir: string
  /** Requests other than discovery, OpenAPI and /version, in arrival order. */
  captured: Captured[]
  /** Objects served for GET of exact paths. */
  objects: Map<string, unknown>
  kubectl(args: string[]): Promise<KubectlResult>
  close(): Promise<void>
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text)
}

/** The object a write to `path` plausibly returns: the kind its URL names. */
function plausibleObject(path: string): unknown {
  const parts = path.split('/').filter((p) => p !== '')
  const [group, rest] = parts[0] === 'api' ? ['', parts.slice(1)] : [parts[1] ?? '', parts.slice(2)]
  const [version = '', ...segments] = rest
  const namespace = segments[0] === 'namespaces' && segments.length > 2 ? segments[1] : undefined
  const tail = namespace === undefined ? segments : segments.slice(2)
  const resource = findResource(group, version, tail[0] ?? '')
  if (resource === undefined) return { kind: 'Status', apiVersion: 'v1', status: 'Success' }
  const subresource = tail[2]
  if (subresource === 'eviction') return { kind: 'Status', apiVersion: 'v1', status: 'Success' }
  return { kind: resource.kind, apiVersion: apiVersionOf(resource), metadata: { name: tail[1] ?? 'created', namespace } }
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-protobuf-'))
  let address = ''
  const discovery = discoveryDocuments({ serverAddress: () => address })
  const openapi = openapiDocuments({ version: VERSION.gitVersion })
  const captured: Captured[] = []
  const objects = new Map<string, unknown>()

  const serve = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.method === 'GET') {
      if (url.pathname === '/version') return sendJson(res, 200, VERSION)
      const doc = discovery(url.pathname, url.searchParams, req.headers.accept) ?? openapi(url.pathname, url.searchParams, req.headers.accept)
      if (doc !== undefined) return void res.writeHead(200, { 'Content-Type': doc.contentType, 'Content-Length': doc.body.length }).end(doc.body)
    }
    captured.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body })
    if (req.method === 'GET') {
      const object = objects.get(url.pathname)
      if (object !== undefined) return sendJson(res, 200, object)
      return sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `${url.pathname} not found` })
    }
    sendJson(res, req.method === 'POST' ? 201 : 200, plausibleObject(url.pathname))
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => serve(req, res, Buffer.concat(chunks)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  address = `127.0.0.1:${(server.address() as AddressInfo).port}`
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: capture',
      `  cluster: {server: "http://${address}"}`,
      'users:',
      '- name: capture',
      '  user: {}',
      'contexts:',
      '- name: capture',
      '  context: {cluster: capture, user: capture, namespace: default}',
      'current-context: capture',
      '',
    ].join('\n'),
  )

  const kubectl = (args: string[]): Promise<KubectlResult> =>
    new Promise((resolve) => {
      execFile(
        KUBECTL,
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir }, timeout: 60_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
          resolve({ code, stdout, stderr })
        },
      )
    })

  return {
    dir,
    captured,
    objects,
    kubectl,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
