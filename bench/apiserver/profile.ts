// A summary of a V8 CPU profile (`node --cpu-prof`): where the process spent its
// time, by function (self time) and by source file, so a bench report can say what
// an apiserver bottleneck is made of without opening the profile in a viewer.
import { readFile } from 'node:fs/promises'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples?: number[]
  timeDeltas?: number[]
}

export interface ProfileEntry {
  name: string
  ms: number
  percent: number
}

export interface ProfileSummary {
  file: string
  totalMs: number
  /** Samples marked idle: waiting, or native work while the loop polls — the rest is JavaScript and GC. */
  idleMs: number
  topFunctions: ProfileEntry[]
  topFiles: ProfileEntry[]
  /**
   * What ran during the worst event-loop delay the bench saw (its window, mapped onto
   * the profile's clock), by self time and by inclusive time (a function and all it
   * called). `(idle)` there is time outside JavaScript: waiting, or native work such
   * as socket writes and HTTP/2 framing done while the loop polls.
   */
  worstDelay?: { ms: number; topSelf: ProfileEntry[]; topInclusive: ProfileEntry[] }
}

function shortUrl(url: string): string {
  if (url === '') return '(native)'
  const at = url.search(/\/(src|bench|node_modules)\//)
  const s = at >= 0 ? url.slice(at + 1) : url.replace(/^file:\/\//, '')
  return s.replace(/^node_modules\/((?:@[^/]+\/)?[^/]+)\/.*/, 'node_modules/$1')
}

/**
 * window: the worst loop delay, in CLOCK_MONOTONIC µs (what V8 stamps profiles with,
 * and process.hrtime() reads in any process on the machine).
 */
export async function summarizeProfile(file: string, top = 20, window?: { fromUs: number; toUs: number }): Promise<ProfileSummary> {
  const p = JSON.parse(await readFile(file, 'utf8')) as CpuProfile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  const samples = p.samples ?? []
  const deltas = p.timeDeltas ?? []
  // A sample's time is the delta to the next one.
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i + 1] ?? 0
    self.set(samples[i]!, (self.get(samples[i]!) ?? 0) + us)
  }
  const fn = new Map<string, number>()
  const files = new Map<string, number>()
  let idle = 0
  let total = 0
  for (const [id, us] of self) {
    const n = byId.get(id)
    if (n === undefined) continue
    total += us
    const f = n.callFrame
    if (f.functionName === '(idle)') {
      idle += us
      continue
    }
    const file = shortUrl(f.url)
    const name = frameName(n)
    fn.set(name, (fn.get(name) ?? 0) + us)
    files.set(file, (files.get(file) ?? 0) + us)
  }
  const busy = total - idle
  const rank = (m: Map<string, number>, of = busy, n = top): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: of > 0 ? (100 * us) / of : 0 }))
  return {
    file,
    totalMs: total / 1000,
    idleMs: idle / 1000,
    topFunctions: rank(fn),
    topFiles: rank(files),
    ...(window === undefined ? {} : { worstDelay: during(p, byId, window, (m, of) => rank(m, of, 12)) }),
  }
}

function frameName(n: ProfileNode): string {
  const f = n.callFrame
  const file = shortUrl(f.url)
  // Code run through tsx reports every function on line 1: then the name says enough.
  return `${f.functionName || '(anonymous)'} ${file}${f.url && f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ''}`
}

function during(
  p: CpuProfile,
  byId: Map<number, ProfileNode>,
  window: { fromUs: number; toUs: number },
  rank: (m: Map<string, number>, of: number) => ProfileEntry[],
): NonNullable<ProfileSummary['worstDelay']> {
  const samples = p.samples ?? []
  const deltas = p.timeDeltas ?? []
  const inWindow: number[] = []
  let at = p.startTime
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0
    if (at >= window.fromUs && at <= window.toUs) inWindow.push(i)
  }
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let total = 0
  for (const i of inWindow) {
    const d = deltas[i + 1] ?? 0
    total += d
    const leaf = byId.get(samples[i]!)
    if (leaf === undefined) continue
    self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + d)
    const seen = new Set<string>()
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!
      if (n.callFrame.functionName === '(root)') break
      const name = frameName(n)
      if (seen.has(name)) continue
      seen.add(name)
      inclusive.set(name, (inclusive.get(name) ?? 0) + d)
    }
  }
  return { ms: (window.toUs - window.fromUs) / 1000, topSelf: rank(self, total), topInclusive: rank(inclusive, total) }
}

export function formatProfile(s: ProfileSummary): string {
  const lines = [
    `CPU profile of the driven master: ${s.file}`,
    `${(s.totalMs / 1000).toFixed(1)} s profiled, ${((s.totalMs - s.idleMs) / 1000).toFixed(1)} s not idle (JavaScript, GC, native calls from JavaScript); shares below are of that time.`,
    '',
    '| self time by function | ms | % |',
    '|---|---:|---:|',
    ...s.topFunctions.map((e) => `| \`${e.name}\` | ${e.ms.toFixed(0)} | ${e.percent.toFixed(1)} |`),
    '',
    '| self time by file | ms | % |',
    '|---|---:|---:|',
    ...s.topFiles.map((e) => `| \`${e.name}\` | ${e.ms.toFixed(0)} | ${e.percent.toFixed(1)} |`),
  ]
  const w = s.worstDelay
  if (w !== undefined) {
    lines.push(
      '',
      `During the worst event-loop delay the probe saw (${w.ms.toFixed(0)} ms; (idle) = outside JavaScript: waiting, or native work while the loop polls):`,
      '',
      '| inclusive time (the function and what it called) | ms | % |',
      '|---|---:|---:|',
      ...w.topInclusive.map((e) => `| \`${e.name}\` | ${e.ms.toFixed(0)} | ${e.percent.toFixed(1)} |`),
      '',
      '| self time | ms | % |',
      '|---|---:|---:|',
      ...w.topSelf.map((e) => `| \`${e.name}\` | ${e.ms.toFixed(0)} | ${e.percent.toFixed(1)} |`),
    )
  }
  return lines.join('\n')
}
