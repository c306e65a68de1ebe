// Long-running `raftplane` processes a CLI test starts (masters, nodes, a load
// balancer), each with its output in DIR/<name>.log, all stopped at the test's
// teardown: SIGTERM, then SIGKILL after 10 s.
import { type ChildProcess, spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import type { Test } from 'tap'

/** Returns start(name, argv): spawns argv with its output logged under `dir`. */
export function processes(t: Test, dir: string): (name: string, argv: readonly string[]) => ChildProcess {
  const children: ChildProcess[] = []
  t.teardown(async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve()
            c.once('exit', () => resolve())
            c.kill('SIGTERM')
            setTimeout(() => c.kill('SIGKILL'), 10_000).unref()
          }),
      ),
    )
  })
  return (name, argv) => {
    const log = createWriteStream(join(dir, `${name}.log`))
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.pipe(log)
    child.stderr!.pipe(log)
    children.push(child)
    return child
  }
}
