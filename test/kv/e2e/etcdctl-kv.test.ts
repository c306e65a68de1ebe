// The real etcdctl 3.4 against a 3-member raftplane store cluster: put/get, del, txn,
// watch, leases, compaction, defrag, alarm list. Expectations are what etcd 3.4.23
// prints for the same commands (checked side by side against /usr/bin/etcd).
import t from 'tap'
import { b64, bigIds, ctlJson, ctlOk, etcdctl, ETCDCTL, hex, spawnTracked, startStoreCluster, unb64, waitFor } from './helpers/etcdctl-helpers.js'

interface KV {
  key: string
  value?: string
  create_revision: number
  mod_revision: number
  version: number
  lease?: number | string
}
interface RangeJson {
  header: { revision: number }
  kvs?: KV[]
  count?: number
}

t.setTimeout(110_000)

t.test('etcdctl KV, txn, watch, lease, compaction, defrag against 3 raftplane members', async (t) => {
  const cluster = await startStoreCluster(t)
  const eps = cluster.endpoints
  const [e0, e1, e2] = eps as [string, string, string]
  const all = { endpoints: eps }

  await t.test('put / get: prefix, revision, sort, limit, keys-only, count', async (t) => {
    // A fresh cluster is at revision 1; each put adds one.
    for (let i = 1; i <= 3; i++) t.equal((await ctlOk(['put', `/a/${i}`, `v${i}`], { endpoints: e0 })).trim(), 'OK')
    await ctlOk(['put', '/b/x', 'bx'], { endpoints: e1 })

    const prefix = await ctlJson<RangeJson>(['get', '/a', '--prefix'], { endpoints: e2 })
    t.equal(prefix.header.revision, 5)
    t.equal(prefix.count, 3)
    t.same(
      prefix.kvs!.map((kv) => [unb64(kv.key), unb64(kv.value!), kv.create_revision, kv.mod_revision, kv.version]),
      [
        ['/a/1', 'v1', 2, 2, 1],
        ['/a/2', 'v2', 3, 3, 1],
        ['/a/3', 'v3', 4, 4, 1],
      ],
    )
    t.equal(await ctlOk(['get', '/a', '--prefix'], all), '/a/1\nv1\n/a/2\nv2\n/a/3\nv3\n', 'simple output: key, value lines')

    t.equal((await ctlOk(['put', '/a/1', 'v1b'], all)).trim(), 'OK')
    t.equal(await ctlOk(['get', '/a/1', '--rev=2'], all), '/a/1\nv1\n', 'value at an old revision')
    t.equal(await ctlOk(['get', '/a/1'], all), '/a/1\nv1b\n')
    const future = await etcdctl(['get', '/a/1', '--rev=99'], all)
    t.not(future.code, 0)
    t.match(future.stderr, /Error: etcdserver: mvcc: required revision is a future revision/)

    t.equal(await ctlOk(['get', '/a', '--prefix', '--sort-by=VALUE', '--order=DESCEND', '--limit=2'], all), '/a/3\nv3\n/a/2\nv2\n')
    const limited = await ctlJson<RangeJson & { more?: boolean }>(['get', '/a', '--prefix', '--limit=2'], all)
    t.equal(limited.kvs!.length, 2)
    t.equal(limited.count, 3, 'count is the whole range, not the limit')
    t.equal(limited.more, true)
    t.equal(await ctlOk(['get', '/a', '--prefix', '--keys-only'], all), '/a/1\n\n/a/2\n\n/a/3\n\n', 'keys-only prints a blank line per key, as etcd')
    const keysOnly = await ctlJson<RangeJson>(['get', '/a', '--prefix', '--keys-only'], all)
    t.ok(keysOnly.kvs!.every((kv) => kv.value === undefined), 'keys-only: no values on the wire')
    t.equal(await ctlOk(['get', '/a', '--prefix', '--print-value-only'], all), 'v1b\nv2\nv3\n')
    t.equal(await ctlOk(['get', '', '--from-key', '--keys-only'], all), '/a/1\n\n/a/2\n\n/a/3\n\n/b/x\n\n')
    // etcdctl 3.4 has no --count-only (3.5 added it); the count is in every JSON answer.
    t.equal((await ctlJson<RangeJson>(['get', '/b', '--prefix'], all)).count, 1)
    t.equal((await ctlJson<RangeJson>(['get', '/none', '--prefix'], all)).count, undefined, 'count 0 is omitted in JSON, as etcd')
    t.equal(await ctlOk(['get', '/a', '--prefix', '--consistency=s'], { endpoints: e2 }), '/a/1\nv1b\n/a/2\nv2\n/a/3\nv3\n', 'serializable read on a follower')
  })

  await t.test('del: prefix, prev-kv', async (t) => {
    t.equal(await ctlOk(['del', '/a', '--prefix', '--prev-kv'], all), '3\n/a/1\nv1b\n/a/2\nv2\n/a/3\nv3\n')
    t.equal(await ctlOk(['del', '/nope'], all), '0\n')
    const del = await ctlJson<{ header: { revision: number }; deleted?: number }>(['del', '/b/x'], all)
    t.equal(del.deleted, 1)
    t.equal(del.header.revision, 8)
    t.equal(await ctlOk(['get', '', '--from-key'], all), '', 'nothing left')
  })

  await t.test('txn: interactive script on stdin, success and failure branches', async (t) => {
    await ctlOk(['put', '/t/k', '1'], all)
    const script = 'value("/t/k") = "1"\n\nput /t/k 2\nput /t/other o\n\nput /t/k fail\n\n'
    const out = await ctlOk(['txn', '-i'], { endpoints: e1, input: script })
    t.equal(out, 'compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\nSUCCESS\n\nOK\n\nOK\n')
    // The compare now fails: the failure branch runs.
    const failed = await ctlOk(['txn'], { endpoints: e2, input: 'value("/t/k") = "1"\n\nput /t/k never\n\nget /t/k\n\n' })
    t.equal(failed, 'FAILURE\n\n/t/k\n2\n')
    const json = JSON.parse(await ctlOk(['txn', '-w', 'json'], { endpoints: e0, input: 'mod("/t/k") > "0"\n\nget /t --prefix\n\n\n' })) as {
      succeeded?: boolean
      header: { revision: number }
      responses: { Response: { ResponseRange: RangeJson } }[]
    }
    t.equal(json.succeeded, true)
    t.same(json.responses[0]!.Response.ResponseRange.kvs!.map((kv) => [unb64(kv.key), unb64(kv.value!)]), [
      ['/t/k', '2'],
      ['/t/other', 'o'],
    ])
    const dup = await etcdctl(['txn'], { endpoints: e0, input: '\nput /t/d 1\nput /t/d 2\n\n\n' })
    t.not(dup.code, 0)
    t.match(dup.stderr, /etcdserver: duplicate key given in txn request/)
  })

  await t.test('watch: prefix, rev, prev-kv (history) and live events', async (t) => {
    const rev = (await ctlJson<RangeJson>(['get', '/t/k'], all)).kvs![0]!.create_revision
    // History from rev: etcdctl prints each event and keeps watching; read, then stop it.
    const w = spawnTracked(t, 'etcdctl watch', [ETCDCTL, `--endpoints=${e2}`, 'watch', '/t', '--prefix', `--rev=${rev}`, '--prev-kv'], { ...process.env, ETCDCTL_API: '3' })
    await waitFor('watch history', async () => w.output().includes('/t/other'), 15_000)
    t.equal(w.output(), 'PUT\n/t/k\n1\nPUT\n/t/k\n1\n/t/k\n2\nPUT\n/t/other\no\n', 'PUT lines, prev kv before the new kv')
    // Live events through another member.
    await ctlOk(['put', '/t/live', 'L'], { endpoints: e0 })
    await ctlOk(['del', '/t/other'], { endpoints: e1 })
    await waitFor('live watch events', async () => w.output().includes('DELETE'), 15_000)
    t.match(w.output(), /PUT\n\/t\/live\nL\nDELETE\n\/t\/other\no\n\/t\/other\n\n$/, 'a delete prints prev kv then the key (empty value)')
    w.child.kill('SIGTERM')
    await w.exited

    const jw = spawnTracked(t, 'etcdctl watch -w json', [ETCDCTL, `--endpoints=${e0}`, 'watch', '/t/live', `--rev=${rev}`, '-w', 'json'], { ...process.env, ETCDCTL_API: '3' })
    await waitFor('watch json', async () => jw.output().includes('"Events"'), 15_000)
    const ev = JSON.parse(bigIds(jw.output().trim().split('\n')[0]!)) as { Events: { kv: KV }[]; Canceled: boolean; CompactRevision: number }
    t.same(ev.Events.map((e) => [unb64(e.kv.key), unb64(e.kv.value!)]), [['/t/live', 'L']])
    t.equal(ev.Canceled, false)
    jw.child.kill('SIGTERM')
    await jw.exited
  })

  let leaseId = ''
  await t.test('lease grant / put --lease / keep-alive --once / timetolive --keys / list / revoke', async (t) => {
    const grant = await ctlOk(['lease', 'grant', '600'], { endpoints: e1 })
    const m = /^lease ([0-9a-f]{16}) granted with TTL\(600s\)\n$/.exec(grant)
    t.ok(m, `grant output: ${grant}`)
    leaseId = m![1]!
    const grantJson = JSON.parse(bigIds(await ctlOk(['lease', 'grant', '600', '-w', 'json'], all))) as { ID: string; TTL: number }
    t.equal(grantJson.TTL, 600)
    t.equal((await ctlOk(['put', '/l/k', 'lv', `--lease=${leaseId}`], { endpoints: e2 })).trim(), 'OK')
    const kv = (JSON.parse(bigIds(await ctlOk(['get', '/l/k', '-w', 'json'], all))) as RangeJson).kvs![0]!
    t.equal(hex(String(kv.lease)), leaseId.replace(/^0+/, ''), 'the key carries the lease')

    // keep-alive through every member (followers forward to the leader).
    for (const ep of eps) t.equal(await ctlOk(['lease', 'keep-alive', '--once', leaseId], { endpoints: ep }), `lease ${leaseId} keepalived with TTL(600)\n`)
    for (const ep of eps) {
      const ttl = await ctlOk(['lease', 'timetolive', leaseId, '--keys'], { endpoints: ep })
      t.match(ttl, new RegExp(`^lease ${leaseId} granted with TTL\\(600s\\), remaining\\((59\\d|600)s\\), attached keys\\(\\[/l/k\\]\\)\\n$`))
    }
    const ttlJson = JSON.parse(bigIds(await ctlOk(['lease', 'timetolive', leaseId, '--keys', '-w', 'json'], all))) as { id: string; ttl: number; 'granted-ttl': number; keys: string[] }
    t.equal(ttlJson['granted-ttl'], 600)
    t.same(ttlJson.keys, [b64('/l/k')])
    t.equal(hex(ttlJson.id), leaseId.replace(/^0+/, ''))

    const list = await ctlOk(['lease', 'list'], { endpoints: e0 })
    t.match(list, /^found 2 leases\n/)
    t.ok(list.split('\n').includes(leaseId), 'lease list names the lease')

    t.equal(await ctlOk(['lease', 'revoke', leaseId], { endpoints: e2 }), `lease ${leaseId} revoked\n`)
    t.equal(await ctlOk(['lease', 'timetolive', leaseId], all), `lease ${leaseId} already expired\n`)
    t.equal((await ctlJson<RangeJson>(['get', '/l/k'], all)).kvs, undefined, 'revoking deleted the attached key')
    const again = await etcdctl(['lease', 'revoke', leaseId], all)
    t.not(again.code, 0)
    t.match(again.stderr, /Error: failed to revoke lease \(etcdserver: requested lease not found\)/)
    const ka = await etcdctl(['lease', 'keep-alive', '--once', leaseId], all)
    t.not(ka.code, 0)
    t.match(ka.stderr, /Error: etcdserver: requested lease not found/)
    const put = await etcdctl(['put', '/l/k2', 'x', `--lease=${leaseId}`], all)
    t.not(put.code, 0)
    t.match(put.stderr, /Error: etcdserver: requested lease not found/)
  })

  await t.test('a short lease expires and takes its key', async (t) => {
    const id = /^lease ([0-9a-f]+) granted/.exec(await ctlOk(['lease', 'grant', '2'], all))![1]!
    await ctlOk(['put', '/exp/k', 'x', `--lease=${id}`], all)
    await waitFor('the key of an expired lease to go', async () => (await ctlJson<RangeJson>(['get', '/exp/k'], all)).kvs === undefined, 15_000)
    t.equal(await ctlOk(['lease', 'timetolive', id], all), `lease ${id} already expired\n`)
  })

  await t.test('compaction (and --physical), reads below it fail', async (t) => {
    const rev = (await ctlJson<RangeJson>(['get', 'x'], all)).header.revision
    t.equal(await ctlOk(['compaction', '5'], { endpoints: e1 }), 'compacted revision 5\n')
    const again = await etcdctl(['compaction', '3'], all)
    t.not(again.code, 0)
    t.match(again.stderr, /Error: etcdserver: mvcc: required revision has been compacted/)
    const old = await etcdctl(['get', '/t/k', '--rev=4'], { endpoints: e2 })
    t.match(old.stderr, /Error: etcdserver: mvcc: required revision has been compacted/)
    t.equal(await ctlOk(['compaction', String(rev), '--physical'], all), `compacted revision ${rev}\n`)
    t.equal(await ctlOk(['get', '/t/k', '--print-value-only'], all), '2\n', 'the latest value survives compaction')
    // A watch from below the compacted revision is canceled with etcd's message.
    const w = await etcdctl(['watch', '/t', '--prefix', '--rev=2'], { endpoints: e0, timeoutMs: 8000 })
    t.match(w.stdout + w.stderr, /watch was canceled \(etcdserver: mvcc: required revision has been compacted\)/)
  })

  await t.test('defrag every endpoint, alarm list', async (t) => {
    t.equal(await ctlOk(['defrag'], all), eps.map((ep) => `Finished defragmenting etcd member[${ep}]\n`).join(''))
    t.equal(await ctlOk(['alarm', 'list'], all), '', 'no alarms')
    t.equal(await ctlOk(['get', '/t/k', '--print-value-only'], all), '2\n', 'data intact after defrag')
  })
})
