import type { Entry, NodeId } from '../../../src/raft/types.js'

/** A violated safety property, with enough detail to debug from the seed. */
export class SafetyViolation extends Error {
  override name = 'SafetyViolation'
}

function entryKey(e: Entry): string {
  return `${e.type}:${Buffer.from(e.data).toString('latin1')}`
}

/**
 * The safety properties of Raft (Figure 3 of the paper), checked against everything the
 * simulated nodes persist, elect and apply over a whole run:
 * - Election safety: at most one leader per term.
 * - Log matching: an (index, term) pair names one entry with one predecessor term, so
 *   two logs holding it agree on it and, inductively, on everything before it.
 * - Leader completeness: a new leader's log holds every entry committed before it.
 * - State machine safety: no two nodes apply different entries at an index.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>()
  private readonly logEntries = new Map<string, { key: string; prevTerm: number }>()
  /** index → the entry applied there (by anyone): the committed log as observed. */
  readonly committed = new Map<number, { term: number; key: string }>()
  maxCommitted = 0

  leaderElected(id: NodeId, term: number): void {
    const prev = this.leaders.get(term)
    if (prev !== undefined && prev !== id) {
      throw new SafetyViolation(`election safety: nodes ${prev} and ${id} both leader in term ${term}`)
    }
    this.leaders.set(term, id)
  }

  /** `prevTerm` is the term of the entry before `e` in that node's log (0 if unknown: compacted). */
  entryPersisted(id: NodeId, e: Entry, prevTerm: number | undefined): void {
    const at = `${e.index}/${e.term}`
    const key = entryKey(e)
    const seen = this.logEntries.get(at)
    if (!seen) {
      this.logEntries.set(at, { key, prevTerm: prevTerm ?? -1 })
      return
    }
    if (seen.key !== key) {
      throw new SafetyViolation(`log matching: node ${id} has a different entry at index ${e.index} term ${e.term}`)
    }
    if (prevTerm !== undefined && seen.prevTerm !== -1 && seen.prevTerm !== prevTerm) {
      throw new SafetyViolation(
        `log matching: node ${id} entry ${e.index}/${e.term} follows term ${prevTerm}, another log has it after term ${seen.prevTerm}`,
      )
    }
    if (seen.prevTerm === -1 && prevTerm !== undefined) seen.prevTerm = prevTerm
  }

  entryApplied(id: NodeId, e: Entry): void {
    const key = entryKey(e)
    const seen = this.committed.get(e.index)
    if (seen && (seen.term !== e.term || seen.key !== key)) {
      throw new SafetyViolation(
        `state machine safety: node ${id} applied ${e.index}/${e.term}, but ${e.index}/${seen.term} was applied elsewhere`,
      )
    }
    if (!seen) this.committed.set(e.index, { term: e.term, key })
    if (e.index > this.maxCommitted) this.maxCommitted = e.index
  }

  /** Called when `id` becomes leader: `termAt(i)` is its log's term at i, or undefined if compacted. */
  leaderComplete(id: NodeId, term: number, lastIndex: number, termAt: (i: number) => number | undefined): void {
    for (const [index, c] of this.committed) {
      if (index > lastIndex) {
        throw new SafetyViolation(`leader completeness: leader ${id} of term ${term} lacks committed index ${index} (last ${lastIndex})`)
      }
      const t = termAt(index)
      if (t !== undefined && t !== c.term) {
        throw new SafetyViolation(`leader completeness: leader ${id} of term ${term} has term ${t} at committed index ${index}, expected ${c.term}`)
      }
    }
  }
}

/**
 * Linearizable reads, checked the way a client sees them: a read that returns must
 * reflect every write acknowledged before the read was issued.
 */
export class ReadChecker {
  reads = 0

  check(id: NodeId, ackedBefore: ReadonlySet<string>, state: ReadonlySet<string>): void {
    this.reads++
    for (const w of ackedBefore) {
      if (!state.has(w)) throw new SafetyViolation(`stale read on node ${id}: write ${w} was acknowledged before the read began but is missing`)
    }
  }
}
