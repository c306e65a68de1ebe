// A real pause: a leader in its own process is stopped with SIGSTOP past its lease,
// another candidate takes over, and on SIGCONT the old leader stops leading before it
// can write anything — the writes its loop keeps attempting are refused, and not one
// lands on the server.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { newIdentity } from '../../src/leader-election/index.js'
import { candidate, client, startApi, waitFor } from './helpers.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/paused-leader.ts', import.meta.url))

interface Line {
  event?: 'started' | 'stopped'
  write?: string
  result?: 'ok' | 'fenced-local' | 'fenced-server' | 'error'
  msg?: string
}

async function configMapNames(url: string): Promise<string[]> {
  const list = (await (await fetch(`${url}/api/v1/namespaces/default/configmaps`)).json()) as { items: { metadata: { name: string } }[] }
  return list.items.map((i) => i.metadata.name).sort()
}

t.test('SIGSTOP past the lease, SIGCONT: the old leader stops before it writes', async (t) => {
  const { url } = await startApi(t)
  const lines: Line[] = []
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, url, 'master-1_paused'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  t.teardown(async () => {
    child.kill('SIGCONT')
    child.kill('SIGKILL')
    await exited
  })
  let buf = ''
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString('utf8')
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Line)
      buf = buf.slice(i + 1)
    }
  })

  await waitFor('the child leads and writes', () => lines.filter((l) => l.result === 'ok').length >= 5, 30_000)
  const b = candidate(t, { client: client(t, url), name: 'kube-scheduler', identity: newIdentity('master-2'), leaseDurationMs: 3_000, renewDeadlineMs: 1_500, retryPeriodMs: 100 })
  await waitFor('b sees the child lead', () => b.elector.getLeader() === 'master-1_paused')

  t.ok(child.kill('SIGSTOP'))
  await waitFor('b takes over', () => b.elector.isLeader(), 20_000)
  const landedBefore = await configMapNames(url)
  const seen = lines.length
  t.ok(child.kill('SIGCONT'))

  await waitFor('the child stops', () => lines.slice(seen).some((l) => l.event === 'stopped'), 10_000)
  await waitFor('its loop tries again', () => lines.slice(seen).filter((l) => l.write !== undefined).length >= 3, 10_000)
  const after = lines.slice(seen)
  const writes = after.filter((l) => l.write !== undefined)
  // A write in flight at SIGSTOP answers only now (landed while the child held the
  // Lease, fenced by the server if its bytes left after the takeover, or timed out).
  // Every later one must have been refused before it was sent.
  const [first, ...rest] = writes
  if (first !== undefined && first.result !== 'fenced-local') {
    const lastBefore = Math.max(0, ...lines.slice(0, seen).map((l) => Number(l.write?.slice(2) ?? 0)))
    t.equal(first.write, `w-${lastBefore + 1}`, `the write in flight at the pause: ${JSON.stringify(first)}`)
  }
  t.same(
    rest.filter((l) => l.result !== 'fenced-local'),
    [],
    'every new attempt was refused without asking the server',
  )
  const stoppedAt = after.findIndex((l) => l.event === 'stopped')
  const firstRefused = after.findIndex((l) => l.result === 'fenced-local')
  t.ok(firstRefused >= 0)
  t.ok(stoppedAt >= 0 && stoppedAt < firstRefused, 'leadership ended before the first new attempt')
  t.same(await configMapNames(url), landedBefore, 'nothing written after the takeover')
  t.ok(b.elector.isLeader(), 'the new leader is undisturbed')
})
