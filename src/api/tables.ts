// meta.k8s.io/v1 Tables, as kube-apiserver builds them for `kubectl get`: the
// printers' column definitions (wide-only columns have priority 1), one row per
// object, and each row's object trimmed per includeObject.
import type { ResourceType } from './resources.js'
import { apiVersionOf } from './resources.js'
import { rec, type Json } from './json.js'
import { CORE_PRINTERS } from './tables/core.js'
import { WORKLOAD_PRINTERS } from './tables/workloads.js'
import { defaultPrinter, OTHER_PRINTERS } from './tables/other.js'
import type { ColumnDefinition, Printer, RowCondition } from './tables/format.js'

export { humanDuration } from './tables/format.js'
export { podStatusCells } from './tables/core.js'
export type { ColumnDefinition, RowCondition } from './tables/format.js'

export type IncludeObject = 'None' | 'Metadata' | 'Object'

export interface TableRow {
  cells: unknown[]
  conditions?: RowCondition[]
  /** A PartialObjectMetadata, the whole object, or null, per includeObject. */
  object: Json | null
}

export interface Table {
  kind: 'Table'
  apiVersion: 'meta.k8s.io/v1'
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number }
  columnDefinitions: ColumnDefinition[]
  rows: TableRow[]
}

export interface TableOptions {
  /** What each row carries: PartialObjectMetadata (the default), the object, or nothing. */
  includeObject?: IncludeObject
  /** Leave the column definitions out (TableOptions.noHeaders, for watch events after the first). */
  noHeaders?: boolean
  /** The time ages are measured against (default: now). */
  now?: Date | number
  /** The list's metadata to carry over. */
  listMeta?: Table['metadata']
}

const PRINTERS: Record<string, Printer> = { ...CORE_PRINTERS, ...WORKLOAD_PRINTERS, ...OTHER_PRINTERS }

/** The printer kube-apiserver uses for a resource (plurals are unique across served groups). */
export function printerFor(resource: Pick<ResourceType, 'plural'>): Printer {
  return PRINTERS[resource.plural] ?? defaultPrinter
}

/** The column definitions of a resource's table. */
export function tableColumns(resource: Pick<ResourceType, 'plural'>): ColumnDefinition[] {
  return printerFor(resource).columns.map((c) => ({ ...c }))
}

function rowObject(resource: Pick<ResourceType, 'group' | 'version' | 'kind'>, obj: Json, include: IncludeObject): Json | null {
  if (include === 'None') return null
  if (include === 'Object') return { apiVersion: apiVersionOf(resource), kind: resource.kind, ...obj }
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: rec(obj.metadata) }
}

/** Builds the Table kube-apiserver returns for `objects` of `resource`. */
export function toTable(resource: Pick<ResourceType, 'group' | 'version' | 'kind' | 'plural'>, objects: readonly Json[], options: TableOptions = {}): Table {
  const printer = printerFor(resource)
  const now = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime()
  const include = options.includeObject ?? 'Metadata'
  const rows = objects.map((obj): TableRow => {
    const printed = printer.print(obj, { now })
    const row: TableRow = { cells: printed.cells, object: rowObject(resource, obj, include) }
    if (printed.conditions !== undefined) row.conditions = printed.conditions
    return row
  })
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { ...(options.listMeta ?? {}) },
    columnDefinitions: options.noHeaders === true ? [] : tableColumns(resource),
    rows,
  }
}
