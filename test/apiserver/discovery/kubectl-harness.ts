// A stand-in API server for driving the real kubectl at the discovery and OpenAPI
// documents: /version, the documents, 404 Status for everything else (or a test's own
// handler), with every request recorded. Plus a kubeconfig and a kubectl runner that
// keep kubectl's caches inside a temporary directory.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { discoveryDocuments } from '../../../src/apiserver/discovery/documents.js'
import { openapiDocuments } from '../../../src/apiserver/openapi/documents.js'
import { ApiError } from '../../../src/apiserver/status.js'

export const KUBECTL = '/usr/bin/kubectl'

export interface RecordedRequest {
  method: string
  url: string
  accept: string | undefined
  contentType: string | undefined
  body: string
  status: number
  responseType: string | undefined
}

/** An assertion message for a kubectl exit code: its stderr when it failed. */
export function outcome(r: { code: number; stderr: string }): string {
  return r.code === 0 ? 'kubectl exited 0' : `kubectl exited ${r.code}: ${r.stderr}`
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => boolean

export interface FakeApiServer {
  url: string
  dir: string
  kubeconfig: string
  requests: RecordedRequest[]
  /** Runs kubectl (another binary with `binary`) against this server; never rejects. */
  kubectl(args: string[], opts?: { input?: string; binary?: string }): Promise<{ code: number; stdout: string; stderr: string }>
  close(): Promise<void>
}

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text)
}

export async function startFakeApiServer(handler?: Handler): Promise<FakeApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kubectl-docs-'))
  let address = '127.0.0.1:0'
  const discovery = discoveryDocuments({ serverAddress: () => address })
  const openapi = openapiDocuments({ version: VERSION.gitVersion })
  const requests: RecordedRequest[] = []

  const serve = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (handler?.(req, res, body) === true) return
    if (req.method === 'GET' && url.pathname === '/version') return sendJson(res, 200, VERSION)
    try {
      const doc = req.method === 'GET' ? (discovery(url.pathname, url.searchParams, req.headers.accept) ?? openapi(url.pathname, url.searchParams, req.headers.accept)) : undefined
      if (doc !== undefined) {
        if (doc.etag !== undefined) {
          res.setHeader('ETag', `"${doc.etag}"`)
          if (req.headers['if-none-match'] === `"${doc.etag}"`) return void res.writeHead(304).end()
        }
        res.writeHead(200, { 'Content-Type': doc.contentType, 'Content-Length': doc.body.length }).end(doc.body)
        return
      }
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {})
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err))
      sendJson(res, e.code, e.toStatus())
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      res.on('finish', () =>
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          accept: req.headers.accept,
          contentType: req.headers['content-type'],
          body,
          status: res.statusCode,
          responseType: res.getHeader('content-type') as string | undefined,
        }),
      )
      serve(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  address = `127.0.0.1:${port}`
  const url = `http://${address}`
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${url}`,
      'users:',
      '- name: fake',
      '  user: {}',
      'contexts:',
      '- name: fake',
      '  context: {cluster: fake, user: fake, namespace: default}',
      'current-context: fake',
      '',
    ].join('\n'),
  )

  const kubectl = (args: string[], opts: { input?: string; binary?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = execFile(
        opts.binary ?? KUBECTL,
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir }, timeout: 60_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
          resolve({ code, stdout, stderr })
        },
      )
      if (opts.input !== undefined) child.stdin?.end(opts.input)
    })

  return {
    url,
    dir,
    kubeconfig,
    requests,
    kubectl,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
