// MVCC key index micro benchmark: the in-memory tree every read, write, watch and
// compaction goes through, at 100k and 1M keys shaped like Kubernetes registry keys.
// Also times a sorted array with binary search and splice, the simple alternative
// to a B-tree, on the same inserts. Run: npx tsx bench/kv-index.ts [--json FILE]
// (add --expose-gc before the file name to collect garbage between steps, for steadier figures).
import { writeFile } from 'node:fs/promises'
import { BTree } from '../src/kv/mvcc/btree.js'
import { FROM_KEY, TreeIndex } from '../src/kv/mvcc/tree-index.js'
import { revision } from '../src/kv/mvcc/revision.js'
import { RevisionSet } from '../src/kv/mvcc/revision-set.js'
import { machineLine } from './results-file.js'

interface Row {
  keys: number
  operation: string
  ops: number
  totalMs: number
  usPerOp: number
}

const rows: Row[] = []
// Keys compacted per slice: the store yields to the event loop between slices.
const SLICE = 10_000

// Deterministic pseudo-random keys: /registry/pods/<namespace>/<name>.
function makeKeys(n: number, seed: number): string[] {
  let s = seed >>> 0
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s
  }
  // Through a Buffer, as keys arrive from gRPC: a flat string, not a concatenation rope.
  const key = () => Buffer.from(`/registry/pods/ns-${next() % 200}/pod-${next().toString(36)}${next().toString(36)}`).toString('latin1')
  return Array.from({ length: n }, key)
}

const collectGarbage = (globalThis as { gc?: () => void }).gc

function time(keys: number, operation: string, ops: number, fn: () => void): void {
  collectGarbage?.()
  const t0 = performance.now()
  fn()
  const totalMs = performance.now() - t0
  rows.push({ keys, operation, ops, totalMs, usPerOp: (totalMs * 1000) / ops })
}

// Inserts into a sorted array by binary search and splice: O(n) each, from the memmove.
function sortedArrayInserts(sorted: string[], keys: string[]): void {
  for (const k of keys) {
    let lo = 0
    let hi = sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (sorted[mid] < k) lo = mid + 1
      else hi = mid
    }
    if (sorted[lo] !== k) sorted.splice(lo, 0, k)
  }
}

function baseline(n: number): void {
  const sorted = makeKeys(n, n).sort()
  const more = makeKeys(10_000, n + 1)
  time(n, 'sorted array + splice: 10k inserts (baseline)', more.length, () => sortedArrayInserts(sorted, more))
}

// The index finds single keys through a hash map beside its B-tree; this is why.
function pointLookups(n: number): void {
  const keys = makeKeys(n, n + 2)
  const tree = new BTree<number>()
  const map = new Map<string, number>()
  keys.forEach((k, i) => {
    tree.set(k, i)
    map.set(k, i)
  })
  const probes = Array.from({ length: 100_000 }, (_, i) => Buffer.from(keys[(i * 7919) % n], 'latin1').toString('latin1'))
  let found = 0
  time(n, 'lookup: B-tree descent alone', probes.length, () => {
    for (const k of probes) if (tree.get(k) !== undefined) found++
  })
  time(n, 'lookup: hash map alone', probes.length, () => {
    for (const k of probes) if (map.get(k) !== undefined) found++
  })
  if (found !== 2 * probes.length) throw new Error('lookup benchmark lost keys')
}

function run(n: number): void {
  const keys = makeKeys(n, n)
  // Fresh strings for existing keys, as every request brings its own.
  const probes = Array.from({ length: 100_000 }, (_, i) => Buffer.from(keys[(i * 7919) % n], 'latin1').toString('latin1'))
  const index = new TreeIndex()
  let rev = 0
  collectGarbage?.()
  const heapBefore = process.memoryUsage().heapUsed
  time(n, 'put (new keys, random order)', n, () => {
    for (const k of keys) index.put(k, revision(++rev))
  })
  collectGarbage?.()
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20
  time(n, 'put (existing keys)', probes.length, () => {
    for (const k of probes) index.put(k, revision(++rev))
  })
  time(n, 'get', probes.length, () => {
    for (const k of probes) index.get(k, rev)
  })
  time(n, 'range limit 500, no total', 1000, () => {
    for (let i = 0; i < 1000; i++) index.range(probes[i], FROM_KEY, rev, 500, false)
  })
  time(n, 'range one namespace (~n/200 keys)', 20, () => {
    for (let i = 0; i < 20; i++) index.range(`/registry/pods/ns-${i}/`, `/registry/pods/ns-${i}0`, rev)
  })
  time(n, 'count all keys', 3, () => {
    for (let i = 0; i < 3; i++) index.countRevisions('', FROM_KEY, rev)
  })
  time(n, 'tombstone', probes.length, () => {
    for (const k of probes) if (index.get(k, rev) !== undefined) index.tombstone(k, revision(++rev))
  })
  time(n, 'rangeSince last 10k revisions', 1, () => {
    index.rangeSince('', FROM_KEY, rev - 10_000)
  })
  const slices: number[] = []
  time(n, `compact in slices of ${SLICE.toLocaleString('en-US')} keys (whole index)`, 1, () => {
    const available = new RevisionSet()
    for (let from: string | undefined = ''; from !== undefined; ) {
      const t0 = performance.now()
      from = index.compactFrom(rev, from, SLICE, available)
      slices.push(performance.now() - t0)
    }
  })
  console.log(`${n.toLocaleString('en-US')} keys: longest compaction slice ${Math.max(...slices).toFixed(1)} ms`)
  console.log(`${n.toLocaleString('en-US')} keys: index heap ≈ ${heapMb.toFixed(0)} MiB (${((heapMb * 2 ** 20) / n).toFixed(0)} B/key)`)
}

baseline(100_000)
baseline(1_000_000)
pointLookups(1_000_000)
run(100_000)
run(1_000_000)

console.log(`\n${machineLine()}\n`)
console.log(`| keys | operation | ops | total ms | µs/op |\n|---:|---|---:|---:|---:|`)
for (const r of rows) {
  console.log(`| ${r.keys.toLocaleString('en-US')} | ${r.operation} | ${r.ops.toLocaleString('en-US')} | ${r.totalMs.toFixed(1)} | ${r.usPerOp.toFixed(2)} |`)
}

const jsonAt = process.argv.indexOf('--json')
if (jsonAt >= 0 && process.argv[jsonAt + 1] !== undefined) {
  await writeFile(process.argv[jsonAt + 1], JSON.stringify({ machine: machineLine(), date: new Date().toISOString(), rows }, null, 2))
}
