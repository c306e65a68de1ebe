// The watch guarantees the fault tests check (etcd's: ordered, unique, reliable,
// resumable), against a reference history read after the run:
//  - ordered: revisions never go back;
//  - no duplicates: no (revision, key) twice;
//  - no gaps: from the first event it saw to the last, a watcher saw every event the
//    reference has in between, with the same key, type and value — a watcher resumed
//    after a reconnect included;
//  - it starts where it asked: nothing before its start revision, nothing missing
//    from it.
export interface WatchedEvent {
  revision: number
  key: string
  type: 'PUT' | 'DELETE'
  value: string
}

export interface WatchProblem {
  kind: 'order' | 'duplicate' | 'gap' | 'unknown' | 'different' | 'start'
  message: string
}

const id = (e: WatchedEvent): string => `${e.revision}\0${e.key}`
const show = (e: WatchedEvent | undefined): string => (e === undefined ? 'nothing' : `${e.type} ${e.key}=${JSON.stringify(e.value)} @${e.revision}`)

/**
 * Problems with what one watcher saw, given every event under its prefix (`reference`,
 * in revision order) and the revision it asked to start from. The first few of each
 * kind are reported.
 */
export function checkWatch(seen: readonly WatchedEvent[], reference: readonly WatchedEvent[], startRevision: number): WatchProblem[] {
  const problems: WatchProblem[] = []
  const report = (kind: WatchProblem['kind'], message: string): void => {
    if (problems.filter((p) => p.kind === kind).length < 3) problems.push({ kind, message })
  }
  const index = new Map(reference.map((e, i) => [id(e), i]))
  const firstWanted = reference.findIndex((e) => e.revision >= startRevision)
  const seenIds = new Set<string>()
  let previous: WatchedEvent | undefined
  let expected = firstWanted === -1 ? reference.length : firstWanted
  for (const e of seen) {
    if (previous !== undefined && e.revision < previous.revision) report('order', `${show(e)} came after ${show(previous)}`)
    if (seenIds.has(id(e))) report('duplicate', `${show(e)} seen twice`)
    seenIds.add(id(e))
    previous = e
    if (e.revision < startRevision) report('start', `${show(e)} is before the start revision ${startRevision}`)
    const at = index.get(id(e))
    if (at === undefined) {
      report('unknown', `${show(e)} is not in the history`)
      continue
    }
    const ref = reference[at]!
    if (ref.type !== e.type || ref.value !== e.value) report('different', `saw ${show(e)}, the history has ${show(ref)}`)
    if (at > expected) report('gap', `after ${show(reference[expected - 1])} came ${show(e)}: ${at - expected} event(s) missed, from ${show(reference[expected])}`)
    expected = Math.max(expected, at + 1)
  }
  return problems
}
