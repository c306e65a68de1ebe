// What every printer shares: column definitions, ages as duration.HumanDuration
// prints them, and the Name/Age columns.
import { rec, str, type Json } from '../json.js'
import { doc } from './descriptions.js'

export interface ColumnDefinition {
  name: string
  type: string
  format: string
  description: string
  /** 0 for the default columns, 1 for those only `-o wide` shows. */
  priority: number
}

export interface RowCondition {
  type: string
  status: string
  reason?: string
  message?: string
}

export interface PrintedRow {
  cells: unknown[]
  conditions?: RowCondition[]
}

export interface PrintContext {
  /** The time ages are measured against. */
  now: number
}

export interface Printer {
  columns: ColumnDefinition[]
  print(obj: Json, ctx: PrintContext): PrintedRow
}

export function column(name: string, type: string, description: string, opts: { format?: string; priority?: number } = {}): ColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.priority ?? 0 }
}

export const nameColumn = (): ColumnDefinition => column('Name', 'string', doc('ObjectMeta.name'), { format: 'name' })
export const ageColumn = (): ColumnDefinition => column('Age', 'string', doc('ObjectMeta.creationTimestamp'))
export const wide = (c: ColumnDefinition): ColumnDefinition => ({ ...c, priority: 1 })

/** duration.HumanDuration: "45s", "5m30s", "3h", "2d4h", "<invalid>" for the future. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 60 * 2) return `${seconds}s`
  const minutes = Math.trunc(ms / 60000)
  if (minutes < 10) {
    const s = seconds % 60
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`
  }
  if (minutes < 60 * 3) return `${minutes}m`
  const hours = Math.trunc(ms / 3600000)
  if (hours < 8) {
    const m = minutes % 60
    return m === 0 ? `${hours}h` : `${hours}h${m}m`
  }
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) {
    const h = hours % 24
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365
    const years = Math.trunc(hours / 24 / 365)
    return dy === 0 ? `${years}y` : `${years}y${dy}d`
  }
  return `${Math.trunc(hours / 24 / 365)}y`
}

/** The epoch milliseconds of an RFC 3339 timestamp, or undefined for a missing one. */
export function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string' || v === '') return undefined
  const t = Date.parse(v)
  return Number.isNaN(t) ? undefined : t
}

/** translateTimestampSince: the age of a timestamp, `<unknown>` when unset. */
export function since(v: unknown, ctx: PrintContext): string {
  const t = timeOf(v)
  return t === undefined ? '<unknown>' : humanDuration(ctx.now - t)
}

export function age(obj: Json, ctx: PrintContext): string {
  return since(rec(obj.metadata).creationTimestamp, ctx)
}

export function nameOf(obj: Json): string {
  return str(rec(obj.metadata).name)
}

/** Containers' names and images, comma-joined (layoutContainerCells). */
export function containerCells(containers: Json[]): [string, string] {
  return [containers.map((c) => str(c.name)).join(','), containers.map((c) => str(c.image)).join(',')]
}

/** "a,b,c + 2 more..." for long lists, as several printers shorten them. */
export function listWithMore(list: string[], count: number, max: number, empty: string): string {
  const ret = list.join(',')
  if (count > max) return `${ret} + ${count - max} more...`
  return ret === '' ? empty : ret
}
