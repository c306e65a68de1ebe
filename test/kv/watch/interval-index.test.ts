import t from 'tap'
import { IntervalIndex } from '../../../src/kv/watch/interval-index.js'

t.test('stabbing matches a brute-force scan, with an empty end as open', async (t) => {
  let seed = 7
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  const key = () => String.fromCharCode(...Array.from({ length: 1 + rnd(3) }, () => 97 + rnd(6)))
  const idx = new IntervalIndex<string>()
  const live = new Map<string, [string, string]>()
  for (let round = 0; round < 400; round++) {
    const start = key()
    const end = rnd(5) === 0 ? '' : start + key()
    const name = `${start}|${end}`
    if (live.has(name) && rnd(2) === 0) {
      idx.delete(start, end)
      live.delete(name)
    } else {
      idx.set(start, end, name)
      live.set(name, [start, end])
    }
    const probe = key()
    const got: string[] = []
    idx.stab(probe, (v) => got.push(v))
    const want = [...live].filter(([, [s, e]]) => probe >= s && (e === '' || probe < e)).map(([n]) => n)
    t.same(got.sort(), want.sort(), `round ${round}`)
    t.equal(idx.contains(probe), want.length > 0)
  }
  t.equal(idx.size, live.size)
})
