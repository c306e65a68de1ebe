// `application/merge-patch+json` (RFC 7386) as kube-apiserver applies it with
// evanphx/json-patch v4's MergePatch: objects merge key by key, null deletes, anything
// else replaces; nulls inside newly added objects are dropped. A body that is not JSON,
// or is null or a scalar, is 400 "Invalid JSON Patch"; an array replaces the whole
// document, which then fails to decode as an object (422).

import type { KubeObject } from '../watch-cache/types.js'
import { badRequest, invalidPatch } from './errors.js'
import { goJsonMarshal, parseJson } from './go-text.js'
import { cloneJson, isObject, type Json } from './json.js'

type JsonObject = { [key: string]: Json }

// v4 drops null members of objects, recursing through arrays, but keeps null array items.
function pruneNulls(v: Json): Json {
  if (Array.isArray(v)) return v.map((item) => (item === null ? null : pruneNulls(item)))
  if (!isObject(v)) return v
  const out: JsonObject = {}
  for (const [k, child] of Object.entries(v as JsonObject)) if (child !== null) out[k] = pruneNulls(child)
  return out
}

function mergeInto(doc: JsonObject, patch: JsonObject): JsonObject {
  const out: JsonObject = { ...doc }
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete out[k]
      continue
    }
    const cur = out[k]
    if (cur === undefined || cur === null || !isObject(cur)) out[k] = pruneNulls(v)
    else if (!isObject(v)) out[k] = v
    else out[k] = mergeInto(cur as JsonObject, v as JsonObject)
  }
  return out
}

/**
 * RFC 7386 merge of an already decoded patch into a value, without touching either:
 * the semantics of MergePatch for a document that is an object.
 */
export function mergePatchValue(doc: Json, patch: Json): Json {
  if (!isObject(doc)) return pruneNulls(patch)
  if (!isObject(patch)) return patch
  return mergeInto(doc as JsonObject, patch as JsonObject)
}

/** Applies a JSON merge patch body to `current` (not mutated). Throws PatchError. */
export function applyMergePatch(current: KubeObject, body: string | Uint8Array): KubeObject {
  const parsed = parseJson(body)
  if (!parsed.ok) throw badRequest('Invalid JSON Patch')
  const patch = parsed.value
  if (Array.isArray(patch)) {
    throw invalidPatch(goJsonMarshal(pruneNulls(patch)), `couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`)
  }
  if (!isObject(patch)) throw badRequest('Invalid JSON Patch')
  // The result shares nothing with `current` (the registry may set metadata on it).
  return mergeInto(cloneJson(current) as JsonObject, patch as JsonObject) as KubeObject
}
