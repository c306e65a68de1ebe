// The API layer plugged into the registry and the HTTP handlers: defaulting,
// validation, admission and managedFields around writes (ObjectHooks), and
// selectors, tables and patches for requests (HandlerDeps). Errors of the pure
// layers become Kubernetes Status errors here.
import { applyDefaults } from '../api/defaults.js'
import { jobSelectorDefaults } from '../api/defaults/workloads.js'
import { FieldSelectorError, fieldMatcher } from '../api/fields.js'
import { LabelSelectorError, parseSelector } from '../api/labels.js'
import { apiVersionOf, type ResourceType } from '../api/resources.js'
import { toTable } from '../api/tables.js'
import { validateNamespaceFinalizeUpdate } from '../api/validation/core.js'
import { formatFieldErrors, validateCreate, validateStatusUpdate, validateUpdate } from '../api/validation/index.js'
import type { Admission } from './admission/index.js'
import type { HandlerDeps } from './http/resource-handler.js'
import { applyPatch, JSON_PATCH, MERGE_PATCH, PatchError, recordUpdate, serverSideApply, STRATEGIC_MERGE_PATCH } from './patch/index.js'
import type { FieldError, ObjectHooks } from './registry/resource-store.js'
import { ApiError, badRequest, type StatusReason } from './status.js'
import type { KubeObject } from './watch-cache/types.js'

function fromPatchError(err: unknown): unknown {
  if (!(err instanceof PatchError)) return err
  const details = err.details === undefined ? undefined : { causes: err.details.causes?.map((c) => ({ ...c })) ?? [] }
  return new ApiError(err.code, (err.reason ?? 'InternalError') as StatusReason, err.message, details)
}

/** The fields a write through this endpoint may not set (the status of a kind with a status subresource). */
function resetFields(rt: ResourceType, subresource: string): string[][] {
  if (!rt.subresources.includes('status')) return []
  return subresource === 'status' ? [] : [['status']]
}

export function objectHooks(admission: Admission): ObjectHooks {
  return {
    defaults: (rt, obj, create) => {
      applyDefaults(rt, obj, { create })
      // The Job registry selects its pods by the Job's own uid (set just before).
      if (create && rt.group === 'batch' && rt.kind === 'Job') jobSelectorDefaults(obj, String((obj.metadata ?? {}).uid ?? ''))
    },
    validateCreate: (rt, obj) => validateCreate(rt, obj) as FieldError[],
    validateUpdate: (rt, old, obj, subresource) =>
      (subresource === 'status'
        ? validateStatusUpdate(rt, old, obj)
        : subresource === 'finalize'
          ? [...validateUpdate(rt, old, obj), ...validateNamespaceFinalizeUpdate(obj, old)]
          : validateUpdate(rt, old, obj)) as FieldError[],
    invalidMessage: (rt, name, errs) => formatFieldErrors(rt, name, errs),
    admit: (op, rt, obj, old, dryRun) => admission.admit(op, rt, obj, old, dryRun),
    createFailed: (rt, obj) => admission.createFailed(rt, obj),
    deleted: (rt, obj) => admission.deleted(rt, obj),
    recordUpdate: (rt, old, obj, manager, now, subresource) => {
      try {
        const recorded = recordUpdate(old, obj, manager, apiVersionOf(rt), now, {
          ...(subresource === '' ? {} : { subresource }),
          resetFields: resetFields(rt, subresource),
        })
        obj.metadata = recorded.metadata
      } catch (err) {
        throw fromPatchError(err)
      }
    },
  }
}

export function handlerDeps(): HandlerDeps {
  return {
    labelMatcher(selector) {
      try {
        const sel = parseSelector(selector)
        return (labels) => sel.matches(labels)
      } catch (err) {
        if (err instanceof LabelSelectorError) throw badRequest(err.message)
        throw err
      }
    },
    fieldMatcher(rt, selector) {
      try {
        const m = fieldMatcher(rt, selector)
        return (obj) => m.matches(obj)
      } catch (err) {
        if (err instanceof FieldSelectorError) throw badRequest(err.message)
        throw err
      }
    },
    table: (rt, objs, opts) => toTable(rt, objs, { includeObject: opts.includeObject, noHeaders: opts.noHeaders, now: new Date() }) as unknown as Record<string, unknown>,
    patch(type, rt, current, body) {
      const ct = type === 'json' ? JSON_PATCH : type === 'merge' ? MERGE_PATCH : STRATEGIC_MERGE_PATCH
      try {
        return applyPatch(ct, current, body, { apiVersion: apiVersionOf(rt), kind: rt.kind })
      } catch (err) {
        throw fromPatchError(err)
      }
    },
    apply(rt, live, applied, manager, force, now, subresource) {
      let res
      try {
        res = serverSideApply(live, applied, {
          manager,
          force,
          apiVersion: apiVersionOf(rt),
          kind: rt.kind,
          now,
          ...(subresource === '' ? {} : { subresource }),
          resetFields: resetFields(rt, subresource),
        })
      } catch (err) {
        throw fromPatchError(err)
      }
      if (res.error !== undefined) throw fromPatchError(res.error)
      return res.object as KubeObject
    },
  }
}
