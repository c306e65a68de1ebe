// Small shared pieces of the client end-to-end tests (etcd3-*.test.ts, bad-input*.test.ts):
// how to start our store under tap, and waiting with a deadline.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..')

/** Real etcd 3.4, as scripts/install-deps.sh installs it. */
export const ETCD = '/usr/bin/etcd'

/** `raftplane store` from source, for StoreCluster.start({ command }). */
export const OURS = [process.execPath, '--import', 'tsx', join(REPO, 'src', 'cli', 'main.ts'), 'store']

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `cond` every `everyMs` until it holds; throws after `ms`. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000, everyMs = 100): Promise<void> {
  const until = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** `p`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}
