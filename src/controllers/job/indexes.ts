// Completion indexes of Indexed Jobs: each pod carries its index in an annotation
// (and label); status.completedIndexes lists the finished ones as intervals in
// increasing order, "1,3-5,7", as upstream writes them.

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index'

/** The pod's completion index, or undefined when missing, malformed or out of [0, completions). */
export function podIndex(pod: { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> } }, completions: number): number | undefined {
  const raw = pod.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] ?? pod.metadata?.labels?.[COMPLETION_INDEX_ANNOTATION]
  if (raw === undefined || !/^(0|[1-9][0-9]*)$/.test(raw)) return undefined
  const i = Number(raw)
  return i < completions ? i : undefined
}

/** Parses "1,3-5" into a sorted set of indexes below `completions`; junk is ignored as upstream does. */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>()
  if (s === undefined || s === '') return out
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim())
    if (m === null) continue
    const from = Number(m[1])
    const to = m[2] === undefined ? from : Number(m[2])
    for (let i = from; i <= to && i < completions; i++) out.add(i)
  }
  return out
}

export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}

/** The first `count` indexes in [0, completions) that are neither completed nor taken. */
export function pendingIndexes(completions: number, completed: ReadonlySet<number>, taken: ReadonlySet<number>, count: number): number[] {
  const out: number[] = []
  for (let i = 0; i < completions && out.length < count; i++) if (!completed.has(i) && !taken.has(i)) out.push(i)
  return out
}
