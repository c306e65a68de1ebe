// The checkers (./checker/). Linearizability: hand-made histories it must accept and
// reject, seeded random histories of an atomic register — concurrent, with
// indeterminate operations — which it must accept as they are and reject once one
// read is made stale, and agreement with brute force on small ones. Watch: each kind
// of broken event stream.
import t from 'tap'
import { checkLinearizable } from './checker/linearizability.js'
import { seededRandom as seeded } from '../raft/helpers/network.js'
import { checkWatch, type WatchedEvent } from './checker/watch.js'
import { checkRegisters, type RegisterInput, registerModel, type RegisterOperation, type RegisterOutput } from './checker/register.js'

const read = (client: number, call: number, ret: number, value: string | null, object = 'k'): RegisterOperation => ({ object, client, input: { f: 'read' }, output: { value }, call, ret })
const write = (client: number, call: number, ret: number, value: string, object = 'k'): RegisterOperation => ({
  object,
  client,
  input: { f: 'write', value },
  ...(Number.isFinite(ret) ? { output: {} } : {}),
  call,
  ret,
})
const cas = (client: number, call: number, ret: number, expected: string, value: string, succeeded: boolean | undefined): RegisterOperation => ({
  object: 'k',
  client,
  input: { f: 'cas', expected, value },
  ...(succeeded === undefined ? {} : { output: { succeeded } }),
  call,
  ret,
})

const check = (h: RegisterOperation[]) => checkRegisters(h, 5_000_000)

t.test('hand-made histories', async (t) => {
  t.ok(check([]).linearizable, 'the empty history')
  t.ok(check([read(1, 0, 1, null), write(1, 2, 3, 'a'), read(2, 4, 5, 'a')]).linearizable, 'sequential')
  t.ok(check([write(1, 0, 10, 'a'), read(2, 1, 2, null), read(3, 3, 4, 'a'), read(2, 5, 6, 'a')]).linearizable, 'a read during a write may see either side')
  t.notOk(check([write(1, 0, 10, 'a'), read(2, 1, 2, 'a'), read(3, 3, 4, null)]).linearizable, 'but once seen, the new value stays (no flicker back)')
  t.notOk(check([read(1, 0, 1, 'ghost')]).linearizable, 'a value never written')

  const stale = check([write(1, 0, 1, 'a'), write(1, 2, 3, 'b'), read(2, 4, 5, 'a')])
  t.notOk(stale.linearizable, 'a stale read: b was acknowledged before the read began')
  t.ok(stale.conclusive)
  t.match(stale.objects[0]!.explanation, /cannot linearize: client 2 .* read → "a"/)

  t.ok(check([write(1, 0, Infinity, 'a'), read(2, 5, 6, 'a')]).linearizable, 'an indeterminate write may have happened')
  t.ok(check([write(1, 0, Infinity, 'a'), read(2, 5, 6, null)]).linearizable, '… or not')
  t.notOk(check([write(1, 0, Infinity, 'a'), read(2, 5, 6, 'a'), read(2, 7, 8, null)]).linearizable, '… but not both')

  t.ok(check([write(1, 0, 1, 'a'), cas(2, 2, 3, 'a', 'b', true), read(1, 4, 5, 'b')]).linearizable, 'compare-and-set')
  t.notOk(check([write(1, 0, 1, 'a'), cas(2, 2, 5, 'a', 'b', true), cas(3, 2, 5, 'a', 'c', true)]).linearizable, 'two CAS from the same value cannot both win')
  t.ok(check([write(1, 0, 1, 'a'), cas(2, 2, 5, 'a', 'b', true), cas(3, 2, 5, 'a', 'c', false)]).linearizable, 'one wins, the other fails')
  t.notOk(check([write(1, 0, 1, 'a'), cas(2, 2, 3, 'a', 'b', false)]).linearizable, 'a CAS that should have applied reports failure')
  t.ok(check([write(1, 0, 1, 'a'), cas(2, 2, Infinity, 'a', 'b', undefined), read(1, 9, 10, 'b'), read(3, 11, 12, 'b')]).linearizable, 'an indeterminate CAS seen to apply')
  const failedSaw = (value: string | null): RegisterOperation => ({ object: 'k', client: 3, input: { f: 'cas', expected: 'zz', value: 'q' }, output: { succeeded: false, value }, call: 6, ret: 7 })
  t.ok(check([write(1, 0, 1, 'a'), write(2, 2, 3, 'b'), failedSaw('b')]).linearizable, 'a failed CAS that found the current value')
  t.notOk(check([write(1, 0, 1, 'a'), write(2, 2, 3, 'b'), failedSaw('a')]).linearizable, 'a failed CAS that found a stale value')
  t.ok(
    check([write(1, 0, 1, 'a'), write(2, 2, Infinity, 'u'), cas(3, 6, 7, 'a', 'c', false)]).linearizable,
    'a failed CAS that does not say what it found may depend on an unanswered write nobody read',
  )

  const two = check([write(1, 0, 1, 'a', 'x'), read(2, 2, 3, 'a', 'x'), write(1, 0, 1, 'b', 'y'), read(2, 2, 3, 'a', 'y')])
  t.notOk(two.linearizable, 'objects are checked apart: y is wrong')
  t.same(
    two.objects.map((o) => [o.object, o.linearizable]),
    [
      ['x', true],
      ['y', false],
    ],
  )
})

/**
 * A history of an atomic register: `clients` clients each call `perClient` operations
 * one after another with random latencies; each takes effect at a random point within
 * its call. Some writes and CASes are indeterminate (their answer is lost; half of
 * them never took effect).
 */
function atomicHistory(random: () => number, clients: number, perClient: number): RegisterOperation[] {
  type Planned = { op: RegisterOperation; at: number; happens: boolean }
  const planned: Planned[] = []
  let n = 0
  for (let c = 0; c < clients; c++) {
    let now = random() * 5
    for (let i = 0; i < perClient; i++) {
      const call = now
      const ret = call + 0.1 + random() * 10
      const at = call + (ret - call) * random()
      const r = random()
      const input: RegisterInput = r < 0.4 ? { f: 'read' } : r < 0.7 ? { f: 'write', value: `v${n++}` } : { f: 'cas', expected: '', value: `v${n++}` }
      const lost = input.f !== 'read' && random() < 0.05
      planned.push({ op: { object: 'k', client: c, input, call, ret: lost ? Infinity : ret }, at, happens: !lost || random() < 0.5 })
      now = ret + random() * 2
    }
  }
  // Apply in order of the points they take effect at; CASes expect a recent value.
  let state: string | null = null
  const recent: string[] = []
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    const input = p.op.input
    if (input.f === 'cas') input.expected = recent.length > 0 && random() < 0.7 ? recent[Math.floor(random() * recent.length)]! : 'never'
    if (!p.happens) continue
    let output: RegisterOutput
    if (input.f === 'read') output = { value: state }
    else if (input.f === 'write') {
      state = input.value
      output = {}
    } else {
      const ok = state === input.expected
      output = ok ? { succeeded: true } : { succeeded: false, value: state }
      if (ok) state = input.value
    }
    if (state !== null && recent.at(-1) !== state) recent.push(state)
    if (recent.length > 3) recent.shift()
    if (Number.isFinite(p.op.ret)) p.op.output = output
  }
  return planned.map((p) => p.op).filter((o) => Number.isFinite(o.ret) || o.input.f !== 'read')
}

/** Makes one read stale: it returns a value overwritten by a write that completed before the read began. */
function staleOne(history: RegisterOperation[], random: () => number): boolean {
  const writes = history.filter((o) => o.input.f === 'write' && Number.isFinite(o.ret))
  const reads = history.filter((o) => o.input.f === 'read')
  for (let tries = 0; tries < 1000; tries++) {
    const r = reads[Math.floor(random() * reads.length)]!
    const w2 = writes.filter((w) => w.ret < r.call)
    const last = w2[Math.floor(random() * w2.length)]
    if (last === undefined) continue
    const w1 = writes.find((w) => w.ret < last.call)
    if (w1 === undefined) continue
    r.output = { value: (w1.input as { value: string }).value }
    return true
  }
  return false
}

t.test('seeded random histories of an atomic register', async (t) => {
  const base = Number(process.env.CHECKER_SEED ?? Date.now() % 1_000_000)
  for (let i = 0; i < 20; i++) {
    const seed = base + i
    const random = seeded(seed)
    const history = atomicHistory(random, 2 + Math.floor(random() * 8), 200)
    const ok = check(history)
    if (!ok.linearizable || !ok.conclusive) {
      t.fail(`seed ${seed} (CHECKER_SEED=${seed} replays it): an atomic register's history was rejected: ${ok.objects[0]?.explanation ?? ''}`)
      break
    }
    t.ok(staleOne(history, random), `seed ${seed}: a read made stale`)
    const bad = check(history)
    if (bad.linearizable || !bad.conclusive) {
      t.fail(`seed ${seed} (CHECKER_SEED=${seed} replays it): a stale read was not found (conclusive: ${bad.conclusive})`)
      break
    }
  }
  t.comment(`seeds ${base}…${base + 19}`)
})

t.test('thousands of operations on one key, ten clients', async (t) => {
  const seed = Number(process.env.CHECKER_SEED ?? 7)
  const history = atomicHistory(seeded(seed), 10, 500)
  const r = check(history)
  t.ok(r.linearizable && r.conclusive, `5000 operations accepted (seed ${seed}), ${r.objects[0]?.explored} configurations explored`)
})

/** Every order of the operations that respects real time, tried one by one (small histories only). */
function bruteForce(h: RegisterOperation[]): boolean {
  const used = h.map(() => false)
  const search = (state: string | null, placed: number): boolean => {
    if (placed === h.length) return true
    // The next operation must have been called before every unplaced one returned.
    const firstReturn = Math.min(...h.filter((_, i) => !used[i]).map((o) => o.ret))
    return h.some((o, i) => {
      if (used[i] || o.call > firstReturn) return false
      const r = registerModel.step(state, o.input, o.output)
      if (!r.ok) return false
      used[i] = true
      const found = search(r.state, placed + 1)
      used[i] = false
      return found
    })
  }
  return search(null, 0)
}

t.test('small random histories, some corrupted: the checker (pruned or not) agrees with brute force', async (t) => {
  const base = Number(process.env.CHECKER_SEED ?? Date.now() % 1_000_000)
  let rejected = 0
  for (let i = 0; i < 3000; i++) {
    const seed = base + i
    const random = seeded(seed)
    const h = atomicHistory(random, 2 + (i % 3), 5)
    const r = h.find((o) => o.input.f === 'read')
    if (r !== undefined && random() < 0.5) r.output = { value: `v${Math.floor(random() * 9)}` }
    const want = bruteForce(h)
    const got = [checkLinearizable(registerModel, h).linearizable, checkRegisters(h).linearizable]
    if (got[0] !== want || got[1] !== want) {
      t.fail(`seed ${seed} (CHECKER_SEED=${seed - i} replays the run): brute force says ${want}, the checker ${got[0]}, pruned ${got[1]}`)
      return
    }
    if (!want) rejected++
  }
  t.ok(rejected > 100, `both kinds of history were tried (${rejected} of 3000 not linearizable)`)
})

t.test('the watch checker finds gaps, repeats, disorder, strangers and a wrong start', async (t) => {
  const ev = (revision: number, value: string, key = 'k'): WatchedEvent => ({ revision, key, type: 'PUT', value })
  const history = [ev(2, 'a'), ev(3, 'b'), ev(4, 'c'), ev(5, 'd')]
  t.same(checkWatch(history, history, 1), [], 'the whole history')
  t.same(checkWatch(history.slice(2), history, 4), [], 'from a later revision')
  t.same(checkWatch([], history, 6), [], 'nothing yet')
  const kinds = (seen: WatchedEvent[], start = 1) => checkWatch(seen, history, start).map((p) => p.kind)
  t.same(kinds([ev(2, 'a'), ev(4, 'c'), ev(5, 'd')]), ['gap'], 'revision 3 missed')
  t.same(kinds(history.slice(1)), ['gap'], 'the start revision missed')
  t.same(kinds([ev(2, 'a'), ev(3, 'b'), ev(3, 'b'), ev(4, 'c')]), ['duplicate'])
  t.same(kinds([ev(2, 'a'), ev(4, 'c'), ev(3, 'b')]), ['gap', 'order'])
  t.same(kinds([ev(2, 'a'), ev(3, 'x')]), ['different'])
  t.same(kinds([ev(2, 'a'), ev(3, 'b'), ev(9, 'z')]), ['unknown'])
  t.same(kinds(history, 3), ['start'], 'revision 2 is before the start')
  t.match(checkWatch([ev(2, 'a'), ev(4, 'c')], history, 1)[0]!.message, /1 event\(s\) missed, from PUT k="b" @3/)
})
