// `application/json-patch+json` (RFC 6902) as kube-apiserver applies it with
// gopkg.in/evanphx/json-patch.v4: an undecodable body is 400 with encoding/json's
// message, more than 10,000 operations is 413, and any operation that fails (a `test`
// that does not match, a path that does not exist) is the bare 422 "the server rejected
// our request due to an error in our request". v4's quirks kept: negative array indices
// count from the end, a missing `value` is null, and `test` of an absent member against
// null passes. The operations themselves run on fast-json-patch.

import jsonpatch from 'fast-json-patch'
import type { KubeObject } from '../watch-cache/types.js'
import { badRequest, invalidPatch, tooLarge, unprocessable } from './errors.js'
import { goJsonMarshal, jsonKindWord, parseJson } from './go-text.js'
import { cloneJson, isObject, type Json } from './json.js'

/** kube-apiserver's maxJSONPatchOperations. */
export const MAX_JSON_PATCH_OPERATIONS = 10000

type Operation = jsonpatch.Operation

interface RawOperation {
  readonly [field: string]: Json
}

function decodeOperations(body: string | Uint8Array): RawOperation[] {
  const parsed = parseJson(body)
  if (!parsed.ok) throw badRequest(parsed.message)
  const ops = parsed.value
  if (!Array.isArray(ops)) throw badRequest(`json: cannot unmarshal ${jsonKindWord(ops)} into Go value of type jsonpatch.Patch`)
  for (const op of ops) {
    if (op !== null && !isObject(op)) throw badRequest(`json: cannot unmarshal ${jsonKindWord(op)} into Go value of type jsonpatch.Operation`)
  }
  return ops.map((op) => (op ?? {}) as RawOperation)
}

function unescapeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~')
}

// evanphx v4 resolves a negative index against the array's length (+1 for the last
// token of an `add`, which may append); fast-json-patch does not know them.
function resolveNegativeIndices(doc: unknown, path: string, forAdd: boolean): string {
  if (path === '' || !path.startsWith('/')) return path
  const tokens = path.slice(1).split('/')
  let node: unknown = doc
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t] ?? ''
    if (Array.isArray(node) && /^-\d+$/.test(token)) {
      const last = t === tokens.length - 1
      const resolved = Number(token) + node.length + (forAdd && last ? 1 : 0)
      if (resolved >= 0) tokens[t] = String(resolved)
    }
    if (Array.isArray(node)) node = node[Number(tokens[t])]
    else if (isObject(node)) node = node[unescapeToken(tokens[t] ?? '')]
    else node = undefined
  }
  return `/${tokens.join('/')}`
}

function valueAt(doc: unknown, path: string): { found: boolean; value: unknown } {
  if (path === '') return { found: true, value: doc }
  let node: unknown = doc
  for (const raw of path.slice(1).split('/')) {
    const token = unescapeToken(raw)
    if (Array.isArray(node) && /^\d+$/.test(token) && Number(token) < node.length) node = node[Number(token)]
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token]
    else return { found: false, value: undefined }
  }
  return { found: true, value: node }
}

function toOperation(doc: unknown, raw: RawOperation): Operation | 'skip' {
  const kind = typeof raw.op === 'string' ? raw.op : 'unknown'
  if (typeof raw.path !== 'string') throw unprocessable()
  const path = resolveNegativeIndices(doc, raw.path, kind === 'add')
  const value = raw.value ?? null
  switch (kind) {
    case 'add':
    case 'replace':
      return { op: kind, path, value }
    case 'remove':
      return { op: 'remove', path }
    case 'test': {
      const target = valueAt(doc, path)
      if (!target.found && value === null) return 'skip'
      return { op: 'test', path, value }
    }
    case 'move':
    case 'copy': {
      if (typeof raw.from !== 'string') throw unprocessable()
      return { op: kind, from: resolveNegativeIndices(doc, raw.from, false), path }
    }
    default:
      throw unprocessable()
  }
}

/**
 * Applies an RFC 6902 patch body to a copy of `current`. Throws PatchError with
 * kube-apiserver's status for bad bodies and failed operations.
 */
export function applyJsonPatch(current: KubeObject, body: string | Uint8Array): KubeObject {
  const ops = decodeOperations(body)
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw tooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`)
  }
  let doc: unknown = cloneJson(current)
  for (const raw of ops) {
    const op = toOperation(doc, raw)
    if (op === 'skip') continue
    try {
      doc = jsonpatch.applyOperation(doc, op, true, true).newDocument
    } catch {
      throw unprocessable()
    }
  }
  if (!isObject(doc)) throw invalidPatch(goJsonMarshal(doc), `couldn't get version/kind; json parse error: json: cannot unmarshal ${jsonKindWord(doc)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`)
  return doc as KubeObject
}
