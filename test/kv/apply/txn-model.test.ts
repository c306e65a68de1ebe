// Random txns of puts, deletes and reads against a plain in-memory model of etcd's
// semantics: every read inside a txn (which TxnView answers before the one
// KVStore.write) and the store after each txn must agree with the model.
import t from 'tap'
import { Rng } from '../../raft/sim/rng.js'
import { ApplyError } from '../../../src/kv/apply/validate.js'
import type { RequestOp } from '../../../src/kv/apply/requests.js'
import { b, fixture, opDel, opGet, opPut, s, show } from './helpers/fixture.js'

interface ModelKV {
  value: string
  create: number
  mod: number
  version: number
}

const KEYS = ['a', 'b', 'c', 'd', 'e']

const inRange = (k: string, key: string, end?: string) => (end === undefined ? k === key : end === '\x00' ? k >= key : k >= key && k < end)
const showModel = (k: string, kv: ModelKV) => `${k}=${kv.value} c${kv.create} m${kv.mod} v${kv.version}`

t.test('random txns agree with a model, reads inside the txn included', async (t) => {
  const f = await fixture(t)
  const rng = new Rng(20261122)
  const model = new Map<string, ModelKV>()
  let rev = 1
  for (let round = 0; round < 150; round++) {
    const ops: RequestOp[] = []
    const ranges: Array<[string, string | undefined]> = []
    for (let n = rng.int(5) + 1; n > 0; n--) {
      const key = rng.pick(KEYS)
      const end = rng.chance(0.4) ? rng.pick([...KEYS, 'z', '\x00']) : undefined
      const what = rng.int(3)
      if (what === 0) ops.push(opPut(key, `v${round}.${n}`))
      else if (what === 1) ops.push(opDel(key, end, { prev_kv: true }))
      else ops.push(opGet(key, end))
      ranges.push([key, end])
    }
    let res
    try {
      res = await f.txn({ success: ops })
    } catch (err) {
      // Duplicate keys are refused before anything happens.
      t.ok(err instanceof ApplyError, 'only a validation error')
      t.equal(f.store.currentRevision, rev)
      continue
    }
    // Play the txn on the model, checking each response as we go.
    const newRev = rev + 1
    let changed = false
    for (const [i, op] of ops.entries()) {
      const [key, end] = ranges[i] ?? ['', undefined]
      const resp = res.response.responses[i]
      const live = () => [...model.keys()].filter((k) => inRange(k, key, end)).sort()
      if (op.request_put != null) {
        const prev = model.get(key)
        const value = s(op.request_put.value ?? b(''))
        model.set(key, { value, create: prev?.create ?? newRev, mod: newRev, version: (prev?.version ?? 0) + 1 })
        changed = true
      } else if (op.request_delete_range != null) {
        const gone = live()
        const want = gone.map((k) => showModel(k, model.get(k) as ModelKV))
        for (const k of gone) model.delete(k)
        if (gone.length > 0) changed = true
        t.strictSame(resp !== undefined && 'response_delete_range' in resp ? resp.response_delete_range.prev_kvs.map(show) : null, want)
      } else {
        const want = live().map((k) => showModel(k, model.get(k) as ModelKV))
        const got = resp !== undefined && 'response_range' in resp ? resp.response_range : undefined
        t.strictSame(got?.kvs.map(show), want, `round ${round} op ${i}: range ${key}..${JSON.stringify(end)}`)
        t.equal(got?.header.revision, changed ? newRev : rev)
      }
    }
    if (changed) rev = newRev
    t.equal(res.response.header.revision, rev)
    t.equal(f.store.currentRevision, rev)
  }
  const all = (await f.store.range(b('\x00'), b('\x00'))).kvs.map(show)
  t.strictSame(all, [...model.keys()].sort().map((k) => showModel(k, model.get(k) as ModelKV)), 'the store ends as the model')
})
