// Writing responses: JSON bodies (pretty when asked), Status errors, and the
// headers Kubernetes clients look at (Audit-Id, Cache-Control, X-Kubernetes-PF-*).
import type { ServerResponse } from 'node:http'
import { ApiError, internalError, type Status } from '../status.js'

export function sendJson(res: ServerResponse, code: number, body: unknown, pretty = false, contentType = 'application/json'): void {
  const text = pretty ? JSON.stringify(body, null, 2) + '\n' : JSON.stringify(body)
  res.writeHead(code, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  })
  res.end(text)
}

/** Raw pre-encoded JSON bytes (lists assembled from cached encodings). */
export function sendBytes(res: ServerResponse, code: number, body: Buffer, contentType = 'application/json'): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': body.length, 'Cache-Control': 'no-cache, private' })
  res.end(body)
}

export function statusOf(err: unknown): Status {
  return (err instanceof ApiError ? err : internalError(err)).toStatus()
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = statusOf(err)
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (status.code === 429 || status.code === 504) {
    const after = status.details?.retryAfterSeconds
    if (after !== undefined) res.setHeader('Retry-After', String(after))
  }
  sendJson(res, status.code, status)
}
