// Shared pieces of the fault tests (test/kv/e2e/faults*.test.ts): a 3-member cluster
// of `raftplane store` (or real etcd with FAULTS_TARGET=etcd, to check the tests
// themselves) torn down even on failure, waiting for agreement among the live
// members, and the checks every scenario ends with: each acknowledged put readable
// with its value and revision on every member, nothing written that no one asked
// for, and HashKV equal at one revision.
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'
import { StoreCluster, type StoreClusterOptions } from '../../../../bench/kv/cluster.js'
import { Clients, type Status } from './fault-etcd.js'
import type { WriteLoad } from './fault-load.js'

const REPO = fileURLToPath(new URL('../../../../', import.meta.url))

export const TARGET: 'etcd' | 'raftplane' = process.env.FAULTS_TARGET === 'etcd' ? 'etcd' : 'raftplane'

export const STORE_COMMAND =
  TARGET === 'etcd' ? ['/usr/bin/etcd'] : [process.execPath, '--import', 'tsx', `${REPO}src/cli/main.ts`, 'store']

/** A line a member logs when it installs a snapshot sent by the leader (ours; etcd's). */
export const SNAPSHOT_INSTALLED = /restored snapshot \[index: \d+|applied incoming Raft snapshot/

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface FaultCluster {
  cluster: StoreCluster
  /** Loads to close at teardown. */
  loads: WriteLoad[]
}

/**
 * Start a cluster for test t; at its teardown (pass or fail) stop the loads, kill
 * every member, remove the data dirs, and on failure print each member's last output.
 */
export async function startFaultCluster(t: Test, opts: Partial<StoreClusterOptions> = {}): Promise<FaultCluster> {
  const loads: WriteLoad[] = []
  const started: { cluster?: StoreCluster } = {}
  t.teardown(async () => {
    for (const l of loads) l.close()
    const cluster = started.cluster
    if (cluster && !t.passing()) {
      for (const m of cluster.members) {
        t.comment(`--- ${m.name} (${m.endpoint}, ${m.alive ? 'running' : `exited ${String(m.exitCode)}`}), last output ---\n${m.stderrTail.split('\n').slice(-25).join('\n') || '(nothing)'}`)
      }
    }
    await cluster?.stop(3000)
  })
  // FAULTS_SNAPSHOT_COUNT=50 runs every scenario with frequent snapshots (a harsher run).
  const snapshotCount = process.env.FAULTS_SNAPSHOT_COUNT ? Number(process.env.FAULTS_SNAPSHOT_COUNT) : undefined
  // StoreCluster.start kills what it started if it fails; a cluster that started is stopped at teardown.
  started.cluster = await StoreCluster.start({ label: TARGET, startTimeoutMs: 60_000, snapshotCount, ...opts, command: STORE_COMMAND })
  return { cluster: started.cluster, loads }
}

async function statuses(cluster: StoreCluster, who: number[]): Promise<(Status | Error)[]> {
  const c = new Clients(who.map((i) => cluster.members[i]!.endpoint))
  try {
    return await Promise.all(c.m.map((m) => m.status(1500).catch((e: Error) => e)))
  } finally {
    c.close()
  }
}

const aliveIndexes = (cluster: StoreCluster) => cluster.members.flatMap((m, i) => (m.alive ? [i] : []))

/** Index of the leader all live members agree on (and which is live), waiting up to timeoutMs. */
export async function liveLeader(cluster: StoreCluster, timeoutMs = 15_000): Promise<number> {
  const until = Date.now() + timeoutMs
  let last = ''
  while (Date.now() < until) {
    const who = aliveIndexes(cluster)
    const st = await statuses(cluster, who)
    const ok = st.filter((s): s is Status => !(s instanceof Error))
    if (ok.length === st.length && ok.length > 0) {
      const lead = ok[0]!.leader
      const at = ok.findIndex((s) => s.memberId === lead)
      if (lead !== '0' && at >= 0 && ok.every((s) => s.leader === lead)) return who[at]!
    }
    last = st.map((s) => (s instanceof Error ? s.message : `leader ${s.leader}`)).join('; ')
    await sleep(100)
  }
  throw new Error(`no leader agreed by the live members within ${timeoutMs} ms (${last})`)
}

/**
 * Wait until every member reports the same store revision twice in a row (nothing
 * being written, everyone applied it); returns that revision.
 */
export async function converged(cluster: StoreCluster, timeoutMs = 30_000): Promise<{ revision: number; status: Status[] }> {
  const until = Date.now() + timeoutMs
  let prev = -1
  let last = ''
  while (Date.now() < until) {
    const st = await statuses(cluster, cluster.members.map((_, i) => i))
    const ok = st.filter((s): s is Status => !(s instanceof Error))
    if (ok.length === st.length && ok.every((s) => s.revision === ok[0]!.revision)) {
      if (ok[0]!.revision === prev) return { revision: prev, status: ok }
      prev = ok[0]!.revision
    } else prev = -1
    last = st.map((s) => (s instanceof Error ? s.message : `rev ${s.revision} applied ${s.raftAppliedIndex}`)).join('; ')
    await sleep(250)
  }
  throw new Error(`members did not converge on one revision within ${timeoutMs} ms (${last})`)
}

export interface Verified {
  /** Unknown-outcome puts found applied (the same on every member). */
  unknownApplied: number
  keys: number
}

/**
 * Serializable read of the load's prefix on every member: each acknowledged put is
 * there with its value, and its mod and create revision equal the revision the put
 * was answered with; every key there was written by the load (acked or unknown);
 * all members hold exactly the same keys.
 */
export async function verifyAcked(t: Test, cluster: StoreCluster, load: WriteLoad, label: string): Promise<Verified> {
  const c = new Clients(cluster.endpoints)
  let unknownApplied = -1
  let keys = 0
  const seen: string[] = []
  try {
    for (let i = 0; i < c.m.length; i++) {
      const { kvs } = await c.m[i]!.range(load.opts.prefix)
      const name = `${label}: ${cluster.members[i]!.name}`
      const missing: string[] = []
      const wrong: string[] = []
      for (const a of load.acked.values()) {
        const kv = kvs.get(a.key)
        if (!kv) missing.push(`${a.key} (acked at revision ${a.revision})`)
        else if (kv.value !== a.value || kv.modRevision !== a.revision || kv.createRevision !== a.revision || kv.version !== 1) {
          wrong.push(`${a.key}: acked rev ${a.revision}, stored rev ${kv.modRevision}/${kv.createRevision} v${kv.version}${kv.value === a.value ? '' : ' other value'}`)
        }
      }
      const phantom = [...kvs.keys()].filter((k) => !load.acked.has(k) && !load.unknown.has(k))
      t.same(missing.slice(0, 10), [], `${name}: every acknowledged put is present (${missing.length} of ${load.acked.size} missing)`)
      t.same(wrong.slice(0, 10), [], `${name}: with its value, at the revision it was acknowledged with (${wrong.length} differ)`)
      t.same(phantom.slice(0, 10), [], `${name}: no key that was never written (${phantom.length})`)
      const applied = [...load.unknown.keys()].filter((k) => kvs.has(k)).length
      if (unknownApplied < 0) unknownApplied = applied
      keys = kvs.size
      seen.push([...kvs.keys()].sort().join('\n'))
    }
    t.ok(
      seen.every((s) => s === seen[0]),
      `${label}: every member holds the same keys`,
    )
  } finally {
    c.close()
  }
  return { unknownApplied, keys }
}

/** HashKV at `revision` on every member: one hash. Returns it. */
export async function checkHashes(t: Test, cluster: StoreCluster, revision: number, label: string): Promise<number> {
  const c = new Clients(cluster.endpoints)
  try {
    const hashes = await Promise.all(c.m.map((m) => m.hashKV(revision)))
    t.same(
      hashes.map((h) => h.hash),
      hashes.map(() => hashes[0]!.hash),
      `${label}: HashKV at revision ${revision} is the same on every member (${hashes.map((h) => h.hash).join(', ')})`,
    )
    return hashes[0]!.hash
  } finally {
    c.close()
  }
}

/** Revisions acknowledged twice: two puts cannot both have been applied at one revision. */
export function duplicateRevisions(load: WriteLoad): string[] {
  const by = new Map<number, string>()
  const dup: string[] = []
  for (const a of load.acked.values()) {
    const other = by.get(a.revision)
    if (other) dup.push(`${a.key} and ${other} both acked at revision ${a.revision}`)
    else by.set(a.revision, a.key)
  }
  return dup
}

export function figures(load: WriteLoad): string {
  return `acknowledged ${load.acked.size} (${load.rate().toFixed(0)}/s), unknown outcome ${load.unknown.size}, refused ${load.refused}${load.errors.size ? ` — errors: ${load.errorSummary(4)}` : ''}`
}
