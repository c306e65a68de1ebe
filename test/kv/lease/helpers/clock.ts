// A lessor on a fake clock, for deterministic tests.
import { Lessor, type LessorOptions } from '../../../../src/kv/lease/lessor.js'

export interface Clocked {
  lessor: Lessor
  /** Current fake time in ms. */
  readonly time: number
  advance(ms: number): void
}

export function clocked(opts: Partial<LessorOptions> = {}): Clocked {
  let time = 0
  const lessor = new Lessor({ ...opts, now: () => time })
  return {
    lessor,
    get time() {
      return time
    },
    advance(ms: number) {
      time += ms
    },
  }
}
