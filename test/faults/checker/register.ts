// The model of one etcd key as the fault tests use it: a register that is read
// (Range), written (Put) and compare-and-set (a Txn comparing the value, then
// putting; its failure branch reads the key, so a failed compare-and-set also tells
// what the value was). An absent key reads as null; a compare-and-set on an absent
// key fails, as etcd's value compare does.
import { checkLinearizable, type Model, type Operation } from './linearizability.js'

export type RegisterInput = { f: 'read' } | { f: 'write'; value: string } | { f: 'cas'; expected: string; value: string }

/**
 * A read's value; whether a compare-and-set succeeded and, when it failed, the value
 * it found (if known); a write answers nothing more.
 */
export type RegisterOutput = { value: string | null } | { succeeded: boolean; value?: string | null } | Record<string, never>

export type RegisterOperation = Operation<RegisterInput, RegisterOutput>

export const registerModel: Model<string | null, RegisterInput, RegisterOutput> = {
  init: () => null,
  step(state, input, output) {
    switch (input.f) {
      case 'read':
        // A read whose answer is unknown constrains nothing.
        return { ok: output === undefined || (output as { value: string | null }).value === state, state }
      case 'write':
        return { ok: true, state: input.value }
      case 'cas': {
        const applies = state === input.expected
        if (output === undefined) return { ok: true, state: applies ? input.value : state }
        const { succeeded, value } = output as { succeeded: boolean; value?: string | null }
        if (succeeded) return { ok: applies, state: input.value }
        return { ok: !applies && (value === undefined || value === state), state }
      }
    }
  },
  key: (state) => (state === null ? '\0' : state),
  describe(input, output) {
    const out =
      output === undefined
        ? '?'
        : 'succeeded' in output
          ? `${String(output.succeeded)}${output.value === undefined ? '' : ` (found ${JSON.stringify(output.value)})`}`
          : 'value' in output
            ? JSON.stringify(output.value)
            : 'ok'
    switch (input.f) {
      case 'read':
        return `read → ${out}`
      case 'write':
        return `write ${JSON.stringify(input.value)} → ${out}`
      case 'cas':
        return `cas ${JSON.stringify(input.expected)}→${JSON.stringify(input.value)} → ${out}`
    }
  },
}

/**
 * The history with the operations that cannot matter left out, which keeps the search
 * small: reads whose answer never came, and writes and compare-and-sets whose answer
 * never came and whose value nobody observed. Such an operation can always be put at
 * the end of a linearization (as if it never happened) and needs to be nowhere else:
 * every answered operation names the value it saw (a read, a successful
 * compare-and-set, a failed one that found a value), none saw this one's nor expects
 * it (answered or not), and every value is written once (as the fault tests do). A failed compare-and-set that does
 * not say what it found would depend on any write making the value differ, so a key
 * with one keeps all its operations.
 */
export function withoutUnobserved(history: readonly RegisterOperation[]): RegisterOperation[] {
  const observed = new Set<string>()
  const keepAll = new Set<string>()
  for (const o of history) {
    // An unanswered compare-and-set that is kept needs its expected value in place.
    if (o.output === undefined && o.input.f === 'cas') observed.add(`${o.object}\0${o.input.expected}`)
    if (o.output === undefined) continue
    const out = o.output as { value?: string | null; succeeded?: boolean }
    if (o.input.f === 'cas' && out.succeeded === true) observed.add(`${o.object}\0${o.input.expected}`)
    else if (o.input.f === 'cas' && out.value === undefined) keepAll.add(o.object)
    else if (out.value !== undefined && out.value !== null) observed.add(`${o.object}\0${out.value}`)
  }
  return history.filter((o) => o.output !== undefined || keepAll.has(o.object) || (o.input.f !== 'read' && observed.has(`${o.object}\0${o.input.value}`)))
}

/** Checks a history of registers (see withoutUnobserved). */
export function checkRegisters(history: readonly RegisterOperation[], maxSteps?: number) {
  return checkLinearizable(registerModel, withoutUnobserved(history), maxSteps)
}
