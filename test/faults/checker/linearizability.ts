// A linearizability checker for histories of operations on independent objects (the
// fault tests' KV registers), after Wing & Gong's search with Lowe's memoization, the
// algorithm Porcupine and Knossos use: walk the history in time order and try, at
// each point, to linearize one of the operations that have been called but not yet
// returned; remember every (set of linearized operations, model state) already
// explored, so the search never repeats one; backtrack when an operation's return is
// reached before it could be linearized. Objects are checked one at a time (a
// history is linearizable iff each object's sub-history is), which keeps the search
// small.
//
// Indeterminate operations (a client timeout or a lost connection: the write may or
// may not have happened) return at +Infinity: they may take effect at any point after
// they were called, or never. An indeterminate read tells nothing, so the caller
// leaves it out.
import { randomInt } from 'node:crypto'

/** What the checker knows of the object's behaviour. */
export interface Model<S, I, O> {
  init(): S
  /**
   * Whether `input` applied in state `state` may answer `output` (undefined: the
   * answer is not known), and the state after it.
   */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S }
  /** A key for states: equal states, equal keys. */
  key(state: S): string
  describe?(input: I, output: O | undefined): string
}

export interface Operation<I, O> {
  /** The object the operation is on (a key). */
  object: string
  client: number
  input: I
  /** Undefined for an operation whose outcome is not known. */
  output?: O
  /** When the client called it and when it got the answer (any monotonic clock). */
  call: number
  /** +Infinity when the answer never came. */
  ret: number
}

export interface ObjectResult {
  object: string
  operations: number
  linearizable: boolean
  /** Configurations the search explored. */
  explored: number
  /** When not linearizable: the operations around the point the search could not pass. */
  explanation?: string
}

export interface CheckResult {
  linearizable: boolean
  /** false: the search gave up at the step budget; `linearizable` then means nothing. */
  conclusive: boolean
  objects: ObjectResult[]
}

interface Entry {
  call: boolean
  op: number
  time: number
  prev: Entry | undefined
  next: Entry | undefined
  /** The call's return entry. */
  match?: Entry
}

/** The doubly linked list of call and return events, in time order, behind a sentinel head. */
function eventList<I, O>(ops: readonly Operation<I, O>[]): Entry {
  const events: Entry[] = []
  ops.forEach((o, i) => {
    const ret: Entry = { call: false, op: i, time: o.ret, prev: undefined, next: undefined }
    events.push({ call: true, op: i, time: o.call, prev: undefined, next: undefined, match: ret }, ret)
  })
  // At equal times a call goes first: the two operations then count as concurrent,
  // which can only make the checker more lenient, never report a false violation.
  events.sort((a, b) => a.time - b.time || (a.call === b.call ? 0 : a.call ? -1 : 1))
  const head: Entry = { call: false, op: -1, time: -Infinity, prev: undefined, next: undefined }
  let last = head
  for (const e of events) {
    last.next = e
    e.prev = last
    last = e
  }
  return head
}

/** Takes a call and its return out of the list (the operation is linearized). */
function lift(call: Entry): void {
  call.prev!.next = call.next
  if (call.next) call.next.prev = call.prev
  const ret = call.match!
  ret.prev!.next = ret.next
  if (ret.next) ret.next.prev = ret.prev
}

/** Puts them back, in reverse order of lift. */
function unlift(call: Entry): void {
  const ret = call.match!
  ret.prev!.next = ret
  if (ret.next) ret.next.prev = ret
  call.prev!.next = call
  if (call.next) call.next.prev = call
}

function checkObject<S, I, O>(model: Model<S, I, O>, object: string, ops: readonly Operation<I, O>[], budget: { steps: number }): ObjectResult {
  const n = ops.length
  // The set of linearized operations, hashed incrementally: two random 32-bit words
  // per operation, XORed in and out, plus the count.
  const salt = Array.from({ length: n }, () => [randomInt(2 ** 32), randomInt(2 ** 32)] as const)
  let h1 = 0
  let h2 = 0
  let count = 0
  const toggle = (op: number): void => {
    h1 = (h1 ^ salt[op]![0]) >>> 0
    h2 = (h2 ^ salt[op]![1]) >>> 0
  }
  const seen = new Set<string>()
  const stack: { entry: Entry; state: S }[] = []
  const head = eventList(ops)
  let state = model.init()
  let entry = head.next
  let explored = 0
  // The deepest point reached, for the explanation.
  let deepest = { count: 0, at: undefined as Entry | undefined }
  while (head.next !== undefined) {
    if (budget.steps-- <= 0) return { object, operations: n, linearizable: false, explored, explanation: 'gave up: step budget exhausted' }
    const e = entry!
    if (e.call) {
      const op = ops[e.op]!
      const r = model.step(state, op.input, op.output)
      if (r.ok) {
        toggle(e.op)
        const key = `${h1}:${h2}:${count + 1}:${model.key(r.state)}`
        if (!seen.has(key)) {
          seen.add(key)
          explored++
          stack.push({ entry: e, state })
          state = r.state
          count++
          lift(e)
          entry = head.next
          continue
        }
        toggle(e.op)
      }
      entry = e.next
      continue
    }
    // A return reached: its operation was not linearized before it. Undo the last choice.
    if (count >= deepest.count) deepest = { count, at: e }
    const top = stack.pop()
    if (top === undefined) return { object, operations: n, linearizable: false, explored, explanation: explain(model, ops, deepest.at) }
    unlift(top.entry)
    toggle(top.entry.op)
    count--
    state = top.state
    entry = top.entry.next
  }
  return { object, operations: n, linearizable: true, explored }
}

/** The operation that could not be linearized, what ended just before it, and what ran beside it. */
function explain<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], at: Entry | undefined): string {
  if (at === undefined) return 'no linearization'
  const stuck = ops[at.op]!
  const show = (o: Operation<I, O>): string =>
    `client ${o.client} [${o.call.toFixed(1)}, ${Number.isFinite(o.ret) ? o.ret.toFixed(1) : '∞'}] ${model.describe?.(o.input, o.output) ?? JSON.stringify({ input: o.input, output: o.output })}`
  const before = ops.filter((o) => o.ret < stuck.call).sort((a, b) => a.ret - b.ret).slice(-6)
  const beside = ops.filter((o) => o !== stuck && o.call <= stuck.ret && o.ret >= stuck.call).slice(0, 8)
  return [`cannot linearize: ${show(stuck)}`, 'after:', ...before.map((o) => `  ${show(o)}`), 'beside:', ...beside.map((o) => `  ${show(o)}`)].join('\n')
}

/**
 * Checks the history object by object. `maxSteps` bounds the whole search; past it
 * the result is inconclusive (a test should fail on that too: the history was too
 * concurrent to decide).
 */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], maxSteps = 50_000_000): CheckResult {
  const byObject = new Map<string, Operation<I, O>[]>()
  for (const o of history) {
    let list = byObject.get(o.object)
    if (list === undefined) byObject.set(o.object, (list = []))
    list.push(o)
  }
  const budget = { steps: maxSteps }
  const objects: ObjectResult[] = []
  for (const [object, ops] of [...byObject].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    objects.push(checkObject(model, object, ops, budget))
    if (budget.steps <= 0) return { linearizable: false, conclusive: false, objects }
  }
  return { linearizable: objects.every((o) => o.linearizable), conclusive: true, objects }
}
