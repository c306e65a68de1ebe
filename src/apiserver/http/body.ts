// Request bodies: read with kube-apiserver's 3 MiB limit, decoded from JSON or YAML
// by Content-Type, every failure a 4xx Status (never a crash, never a partial read).
import type { IncomingMessage } from 'node:http'
import { parse as parseYaml } from 'yaml'
import { decodeKubeProtobuf, isKubeProtobuf } from '../protobuf/index.js'
import { ApiError, badRequest, tooLarge, unsupportedMediaType } from '../status.js'

/** kube-apiserver's --max-request-bytes default for a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    throw tooLarge(`Request entity too large: limit is ${limit}`)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      req.resume()
      throw tooLarge(`Request entity too large: limit is ${limit}`)
    }
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

/** The media type without parameters, lower-cased: `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase()
}

export function isYaml(mt: string): boolean {
  return mt === 'application/yaml' || mt === 'application/x-yaml' || mt === 'text/yaml' || mt === 'application/apply-patch+yaml'
}

/**
 * Decodes a JSON, YAML or Kubernetes-protobuf body to a plain value (`defaults`:
 * the endpoint's apiVersion and kind, for a protobuf envelope that leaves them out).
 */
export function decodeBody(body: Buffer, contentType: string | undefined, defaults?: { apiVersion: string; kind: string }): unknown {
  const mt = mediaType(contentType)
  // kubectl's typed clients (`kubectl create namespace`, `create configmap`, …) send protobuf.
  if (isKubeProtobuf(mt)) {
    try {
      return decodeKubeProtobuf(body, defaults)
    } catch (err) {
      throw badRequest((err as Error).message)
    }
  }
  const text = body.toString('utf8')
  if (mt === '' || mt === 'application/json' || mt.endsWith('+json')) {
    try {
      return JSON.parse(text)
    } catch (err) {
      throw badRequest(`json: ${(err as Error).message}`)
    }
  }
  if (isYaml(mt)) {
    try {
      // One document: multi-document streams are the client's to split, as kubectl does.
      return parseYaml(text, { strict: true, uniqueKeys: true, maxAliasCount: 100 })
    } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  throw unsupportedMediaType(mt)
}

/** A decoded body that must be a JSON object (a Kubernetes object or options). */
export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ApiError(400, 'BadRequest', `${what}: the body must be a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}`)
  }
  return v as Record<string, unknown>
}
