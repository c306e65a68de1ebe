// structured-merge-diff's Updater: how a write changes who owns what.
//
// Update (any write but apply): the writer gains every field it added or changed;
// others lose the fields it changed or removed.
// Apply: the configuration is merged into the live object; fields the applier owned
// before and no longer applies are removed unless another manager owns them; changing
// a field another manager owns is a conflict unless forced, which moves the ownership.
//
// There is one version per kind here, so upstream's conversions between versions are
// identities, and a manager recorded at another apiVersion is dropped, as upstream
// drops managers of versions the server no longer serves.

import type { SchemaNode } from '../../api/patch-meta.js'
import type { FieldSet } from './fieldpath.js'
import { jsonEqual, type Json } from './json.js'
import type { VersionedSet } from './managed-fields.js'
import { compareObjects, ensureNamedFieldsAreMembers, mergeObjects, removeFields, toFieldSet, withEmittedFields, type Comparison } from './typed.js'

export interface UpdaterContext {
  readonly schema: SchemaNode
  /** The apiVersion being written: `apps/v1`. */
  readonly version: string
  /** Reset fields: excluded from every set and comparison (upstream's IgnoreFilter). */
  readonly ignore: FieldSet | undefined
}

/** Apply would change fields other managers own: per manager identifier, the fields. */
export class ConflictError extends Error {
  constructor(readonly conflicts: ReadonlyMap<string, FieldSet>) {
    super('conflicts')
  }
}

type Managers = Map<string, VersionedSet>

function filtered(ctx: UpdaterContext, set: FieldSet): FieldSet {
  return ctx.ignore === undefined ? set : set.recursiveDifference(ctx.ignore)
}

// Updater.update: drops what `workflow` changed or removed from every other manager,
// or reports it as conflicts when not forced. Changes `managers` in place.
function update(ctx: UpdaterContext, live: Json | undefined, next: Json | undefined, managers: Managers, workflow: string, force: boolean): Comparison {
  const raw = compareObjects(live, next, ctx.schema)
  const compare: Comparison = { added: filtered(ctx, raw.added), modified: filtered(ctx, raw.modified), removed: filtered(ctx, raw.removed) }
  const changed = compare.modified.union(compare.added)
  const conflicts = new Map<string, FieldSet>()
  const removed = new Map<string, FieldSet>()
  for (const [manager, vs] of managers) {
    if (manager === workflow) continue
    if (vs.apiVersion !== ctx.version) {
      managers.delete(manager)
      continue
    }
    const conflict = vs.set.intersection(changed)
    if (!conflict.empty()) conflicts.set(manager, conflict)
    if (!compare.removed.empty()) removed.set(manager, compare.removed)
  }
  if (!force && conflicts.size > 0) throw new ConflictError(conflicts)
  for (const [manager, conflict] of conflicts) {
    const vs = managers.get(manager) as VersionedSet
    managers.set(manager, { ...vs, set: vs.set.difference(conflict) })
  }
  for (const [manager, gone] of removed) {
    const vs = managers.get(manager) as VersionedSet
    // Untouched sets stay the same objects (and keep their encoding).
    if (!vs.set.intersection(gone).empty()) managers.set(manager, { ...vs, set: vs.set.difference(gone) })
  }
  for (const [manager, vs] of managers) if (vs.set.empty()) managers.delete(manager)
  return compare
}

/**
 * Updater.Update: records that `manager` wrote `next` over `live`. Objects are compared
 * as Go's typed round trip presents them (fields Go always encodes are present).
 */
export function updaterUpdate(ctx: UpdaterContext, live: Json, next: Json, managers: Managers, manager: string): void {
  const typedLive = withEmittedFields(live, ctx.schema)
  const typedNext = withEmittedFields(next, ctx.schema)
  const compare = update(ctx, typedLive, typedNext, managers, manager, true)
  const previous = managers.get(manager)?.set
  let set = compare.modified.union(compare.added)
  if (previous !== undefined) set = previous.difference(compare.removed).union(set)
  set = filtered(ctx, set)
  if (set.empty()) managers.delete(manager)
  else managers.set(manager, { set, apiVersion: ctx.version, applied: false })
}

function namedMembers(ctx: UpdaterContext, set: FieldSet): FieldSet {
  return ensureNamedFieldsAreMembers(set, ctx.schema)
}

// Updater.prune: removes what the applier owned last time and no longer applies,
// unless another manager (or this apply) owns it; fields that only went because their
// parent went ("dangling") come back.
function prune(ctx: UpdaterContext, merged: Json | undefined, managers: Managers, lastSet: VersionedSet | undefined): Json | undefined {
  if (lastSet === undefined || lastSet.set.empty() || lastSet.apiVersion !== ctx.version) return merged
  const last = namedMembers(ctx, lastSet.set)
  let pruned = removeFields(merged, last, ctx.schema)

  let managed: FieldSet | undefined
  for (const vs of managers.values()) if (vs.apiVersion === ctx.version) managed = managed === undefined ? vs.set : managed.union(vs.set)
  const mergedSet = namedMembers(ctx, toFieldSet(merged ?? null, ctx.schema))
  if (managed !== undefined) {
    const prunedSet = namedMembers(ctx, toFieldSet(pruned ?? null, ctx.schema))
    pruned = removeFields(merged, mergedSet.difference(prunedSet.union(namedMembers(ctx, managed))), ctx.schema)
  }

  const prunedSet = namedMembers(ctx, toFieldSet(pruned ?? null, ctx.schema))
  return removeFields(merged, mergedSet.difference(prunedSet).intersection(last), ctx.schema)
}

/**
 * Updater.Apply: merges `config` into `live` for `manager` and updates ownership.
 * Returns the new object, or undefined when it equals `live`. Throws ConflictError.
 */
export function updaterApply(ctx: UpdaterContext, live: Json, config: Json, managers: Managers, manager: string, force: boolean): Json | undefined {
  let merged = mergeObjects(live, config, ctx.schema)
  const lastSet = managers.get(manager)
  managers.set(manager, { set: filtered(ctx, toFieldSet(config, ctx.schema)), apiVersion: ctx.version, applied: true })
  merged = prune(ctx, merged, managers, lastSet)
  update(ctx, live, merged, managers, manager, force)
  return jsonEqual(live, merged) ? undefined : (merged ?? {})
}
