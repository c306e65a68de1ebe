// Shared helpers for the WAL tests.
import { readdir } from 'node:fs/promises'
import { type Entry, EntryType } from '../../../src/raft/types.js'

/** Entries [from, to] in one term, each with `size` bytes of data derived from its index. */
export function ents(from: number, to: number, term: number, size = 8): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) {
    out.push({ term, index: i, type: EntryType.Normal, data: Buffer.alloc(size, i % 251) })
  }
  return out
}

/** Index/term pairs: enough to compare logs without comparing buffers. */
export function ids(entries: Entry[]): string[] {
  return entries.map((e) => `${e.index}@${e.term}`)
}

export function warnings(): { list: string[]; onWarn: (msg: string) => void } {
  const list: string[] = []
  return { list, onWarn: (msg) => list.push(msg) }
}

export async function walFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort()
}
