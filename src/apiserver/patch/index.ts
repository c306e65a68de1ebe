// The patch types kube-apiserver accepts on PATCH, by Content-Type, and a dispatcher
// for the three that transform an existing object. Server-side apply (which may create
// and reports conflicts) is serverSideApply; recordUpdate records any write's owner.

import { supportsStrategicMergePatch } from '../../api/patch-meta.js'
import type { KubeObject } from '../watch-cache/types.js'
import { PatchError } from './errors.js'
import { applyJsonPatch } from './json-patch.js'
import { applyMergePatch } from './merge-patch.js'
import { applyStrategicMergePatch } from './strategic-merge-patch.js'

export const JSON_PATCH = 'application/json-patch+json'
export const MERGE_PATCH = 'application/merge-patch+json'
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json'
export const APPLY_PATCH = 'application/apply-patch+yaml'

export type PatchType = typeof JSON_PATCH | typeof MERGE_PATCH | typeof STRATEGIC_MERGE_PATCH | typeof APPLY_PATCH

/** The patch types a kind accepts, in the order kube-apiserver lists them in its 415. */
export function supportedPatchTypes(apiVersion: string, kind: string): PatchType[] {
  return supportsStrategicMergePatch(apiVersion, kind) ? [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH] : [JSON_PATCH, MERGE_PATCH, APPLY_PATCH]
}

/**
 * The patch type of a Content-Type header (parameters such as charset ignored), or the
 * 415 kube-apiserver answers when the kind does not accept it.
 */
export function patchTypeOf(contentType: string | undefined, apiVersion: string, kind: string): PatchType {
  const bare = (contentType ?? '').split(';')[0]?.trim() ?? ''
  const accepted = supportedPatchTypes(apiVersion, kind)
  const found = accepted.find((t) => t === bare)
  if (found === undefined) {
    throw new PatchError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`)
  }
  return found
}

/** Applies a JSON, merge or strategic merge patch body to `current` (not changed). */
export function applyPatch(patchType: Exclude<PatchType, typeof APPLY_PATCH>, current: KubeObject, body: string | Uint8Array, kind: { apiVersion: string; kind: string }): KubeObject {
  switch (patchType) {
    case JSON_PATCH:
      return applyJsonPatch(current, body)
    case MERGE_PATCH:
      return applyMergePatch(current, body)
    case STRATEGIC_MERGE_PATCH:
      return applyStrategicMergePatch(current, body, kind)
  }
}

export { PatchError } from './errors.js'
export { applyJsonPatch } from './json-patch.js'
export { applyMergePatch } from './merge-patch.js'
export { applyStrategicMergePatch } from './strategic-merge-patch.js'
export { serverSideApply, type ApplyOptions, type ApplyResult, type ApplyConflict, LAST_APPLIED_ANNOTATION } from './apply.js'
export { recordUpdate, managerOrUserAgent, type RecordOptions, type ManagedFieldsEntry } from './managed-fields.js'
