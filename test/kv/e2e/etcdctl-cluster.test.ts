// The real etcdctl 3.4 against a 3-member raftplane store cluster: endpoint
// status/health over all members, member list/add (learner)/promote/remove with a 4th
// `raftplane store` process joining, move-leader, and the HTTP endpoints of the client
// port (/health, /version, /metrics). Expectations follow etcd 3.4.23's output.
import t from 'tap'
import { join } from 'node:path'
import {
  bigIds,
  clusterToken,
  ctlJson,
  ctlOk,
  endpointStatus,
  etcdctl,
  hex,
  memberFlags,
  spawnTracked,
  startStoreCluster,
  STORE_COMMAND,
  tempDir,
  twoPorts,
  waitFor,
} from './helpers/etcdctl-helpers.js'

interface Member {
  ID: string
  name?: string
  peerURLs: string[]
  clientURLs?: string[]
  isLearner?: boolean
}

t.setTimeout(110_000)

t.test('etcdctl cluster and maintenance commands against 3 raftplane members', async (t) => {
  const cluster = await startStoreCluster(t)
  const eps = cluster.endpoints
  const all = { endpoints: eps }

  await t.test('endpoint status over every member: one leader, json and table', async (t) => {
    const st = await endpointStatus(eps)
    t.same(
      st.map((s) => s.Endpoint),
      eps,
    )
    const leaders = new Set(st.map((s) => s.Status.leader))
    t.equal(leaders.size, 1, 'every member names the same leader')
    t.equal(st.filter((s) => s.Status.leader === s.Status.header.member_id).length, 1, 'exactly one member is the leader')
    for (const s of st) {
      t.match(s.Status.version, /^3\.\d+\.\d+$/)
      t.ok(s.Status.dbSize > 0)
      t.ok(s.Status.raftIndex > 0 && s.Status.raftTerm > 0)
    }
    const table = await ctlOk(['endpoint', 'status', '-w', 'table'], all)
    t.match(table, /\| +ENDPOINT +\| +ID +\| +VERSION +\| +DB SIZE +\| +IS LEADER +\| +IS LEARNER +\| +RAFT TERM +\| +RAFT INDEX +\| +RAFT APPLIED INDEX +\| +ERRORS +\|/)
    for (const ep of eps) t.match(table, new RegExp(`\\| ${ep} \\|`))
    t.equal(table.match(/\| +true +\| +false +\|/g)?.length, 1, 'one row says IS LEADER true')
    const simple = (await ctlOk(['endpoint', 'status'], all)).split('\n').filter((l) => l !== '')
    t.equal(simple.length, 3)
    for (const line of simple) t.match(line, /^127\.0\.0\.1:\d+, [0-9a-f]+, 3\.\d+\.\d+, [\d.]+ k?B, (true|false), false, \d+, \d+, \d+, $/)
  })

  await t.test('endpoint health over every member and with --cluster', async (t) => {
    // etcdctl 3.4 prints health lines on stderr.
    const r = await etcdctl(['endpoint', 'health'], all)
    t.equal(r.code, 0)
    const out = r.stdout + r.stderr
    for (const ep of eps) t.match(out, new RegExp(`^${ep} is healthy: successfully committed proposal: took = `, 'm'))
    const json = JSON.parse(await ctlOk(['endpoint', 'health', '--cluster', '-w', 'json'], { endpoints: eps[0]! })) as { endpoint: string; health: boolean }[]
    t.same(json.map((h) => h.endpoint).sort(), eps.map((e) => `http://${e}`).sort(), '--cluster finds every member from member list')
    t.ok(json.every((h) => h.health === true))
  })

  await t.test('--cluster commands that dial each member by its client URL', async (t) => {
    // etcdctl dials "http://host:port" as the gRPC target, so the HTTP/2 :authority
    // is "http://host:port". etcd (Go) accepts it; see the report for raftplane.
    const st = await etcdctl(['endpoint', 'status', '--cluster', '-w', 'json'], { endpoints: eps[0]! })
    t.equal(st.code, 0, `endpoint status --cluster: ${st.stderr.split('\n').slice(-3).join(' ')}`)
    const hash = await etcdctl(['endpoint', 'hashkv', '--cluster'], { endpoints: eps[0]! })
    t.equal(hash.code, 0, `endpoint hashkv --cluster: ${hash.stderr.split('\n').slice(-3).join(' ')}`)
    const defrag = await etcdctl(['defrag', '--cluster'], { endpoints: eps[0]! })
    t.equal(defrag.code, 0, `defrag --cluster: ${defrag.stderr.split('\n').slice(-3).join(' ')}`)
    const http = await etcdctl(['endpoint', 'status'], { endpoints: `http://${eps[0]!}` })
    t.equal(http.code, 0, `--endpoints=http://… endpoint status: ${http.stderr.split('\n').slice(-3).join(' ')}`)
  })

  await t.test('member list: json, table', async (t) => {
    const list = JSON.parse(bigIds(await ctlOk(['member', 'list', '-w', 'json'], all))) as { members: Member[] }
    t.same(list.members.map((m) => m.name).sort(), ['m1', 'm2', 'm3'])
    for (const m of list.members) {
      const mem = cluster.members.find((x) => x.name === m.name)!
      t.same(m.peerURLs, [mem.peerUrl])
      t.same(m.clientURLs, [mem.clientUrl])
      t.notOk(m.isLearner)
    }
    const table = await ctlOk(['member', 'list', '-w', 'table'], all)
    t.match(table, /\| +ID +\| +STATUS +\| +NAME +\| +PEER ADDRS +\| +CLIENT ADDRS +\| +IS LEARNER +\|/)
    for (const m of list.members) t.match(table, new RegExp(`\\| +${hex(m.ID)} \\| +started \\| +${m.name} \\| ${m.peerURLs[0]} \\| ${m.clientURLs![0]} \\| +false \\|`))
  })

  await t.test('move-leader to a follower via the leader', async (t) => {
    const before = await endpointStatus(eps)
    const leaderId = before[0]!.Status.leader
    const leaderEp = before.find((s) => s.Status.header.member_id === leaderId)!.Endpoint
    const follower = before.find((s) => s.Status.header.member_id !== leaderId)!
    const target = follower.Status.header.member_id
    const notLeader = await etcdctl(['move-leader', hex(target)], { endpoints: follower.Endpoint })
    t.not(notLeader.code, 0)
    t.match(notLeader.stderr, /Error: no leader endpoint given at \[/, 'sent to a follower only, as etcd')
    t.equal(await ctlOk(['move-leader', hex(target)], { endpoints: leaderEp }), `Leadership transferred from ${hex(leaderId)} to ${hex(target)}\n`)
    await waitFor('every member to name the new leader', async () => (await endpointStatus(eps)).every((s) => s.Status.leader === target), 10_000)
    t.pass('leadership moved')
    t.equal(await ctlOk(['put', '/after-move', 'x'], all), 'OK\n', 'writes work under the new leader')
  })

  await t.test('member add --learner, a 4th member joins, promote, remove', async (t) => {
    const [clientPort, peerPort] = await twoPorts()
    const peerUrl = `http://127.0.0.1:${peerPort}`
    const added = await ctlOk(['member', 'add', 'm4', '--learner', `--peer-urls=${peerUrl}`], { endpoints: eps[1]! })
    const m = /^Member +([0-9a-f]+) added to cluster +([0-9a-f]+)\n\nETCD_NAME="m4"\nETCD_INITIAL_CLUSTER="([^"]+)"\nETCD_INITIAL_ADVERTISE_PEER_URLS="([^"]+)"\nETCD_INITIAL_CLUSTER_STATE="existing"\n$/.exec(added)
    t.ok(m, `member add output:\n${added}`)
    if (!m) return
    const [, id, , initialCluster, advertised] = m
    t.equal(advertised, peerUrl)
    t.same(initialCluster!.split(',').sort(), [...cluster.members.map((x) => `${x.name}=${x.peerUrl}`), `m4=${peerUrl}`].sort())

    const listed = JSON.parse(bigIds(await ctlOk(['member', 'list', '-w', 'json'], all))) as { members: Member[] }
    const learner = listed.members.find((x) => hex(x.ID) === id)
    t.ok(learner?.isLearner, 'listed as a learner')
    t.match(await ctlOk(['member', 'list'], all), new RegExp(`^${id}, unstarted, , ${peerUrl}, , true$`, 'm'), 'unstarted until it runs')

    const dir = tempDir(t)
    t.not(clusterToken(cluster), 'etcd-cluster', 'the cluster was started with its own token')
    // Started only with what `member add` printed: the default token, not the
    // cluster's own; a joiner adopts the cluster's ID from its peers, as etcd does.
    const m4 = spawnTracked(t, 'm4 (joined member)', [
      ...STORE_COMMAND,
      ...memberFlags({ name: 'm4', dataDir: join(dir, 'm4'), clientPort, peerPort, initialCluster: initialCluster!, state: 'existing', token: 'etcd-cluster' }),
    ])
    const m4ep = `127.0.0.1:${clientPort}`
    // Caught up: a serializable read on m4 sees the last write.
    await ctlOk(['put', '/before-join', 'j'], all)
    await waitFor(
      'the learner to catch up',
      async () => {
        if (!m4.alive()) throw new Error(`m4 exited: ${m4.output().slice(-2000)}`)
        const r = await etcdctl(['get', '/before-join', '--consistency=s', '--print-value-only'], { endpoints: m4ep, timeoutMs: 5000 })
        return r.stdout === 'j\n'
      },
      30_000,
      300,
    )
    await waitFor('m4 to publish its name', async () => (await ctlOk(['member', 'list'], all)).includes(`${id}, started, m4, ${peerUrl}, http://${m4ep}, true`), 10_000)
    t.pass('the learner caught up and published its name and client URL')

    // Promote through a follower: etcd forwards the promotion to the leader.
    const st = await endpointStatus(eps)
    const follower = st.find((s) => s.Status.header.member_id !== s.Status.leader)!.Endpoint
    t.equal(await ctlOk(['member', 'promote', id!], { endpoints: follower }), `Member ${id} promoted in cluster ${m[2]}\n`)
    await waitFor('m4 to be a voter everywhere', async () => {
      for (const ep of eps) if (!(await ctlOk(['member', 'list'], { endpoints: ep })).includes(`${id}, started, m4, ${peerUrl}, http://${m4ep}, false`)) return false
      return true
    })
    t.pass('promoted')
    t.equal(await ctlOk(['put', '/four', '4'], { endpoints: m4ep }), 'OK\n', 'a write through the new voter')
    t.equal(await ctlOk(['get', '/four', '--print-value-only'], all), '4\n')
    const four = await endpointStatus([...eps, m4ep])
    t.equal(new Set(four.map((s) => s.Status.leader)).size, 1, 'all four agree on the leader')

    t.equal(await ctlOk(['member', 'remove', id!], all), `Member ${id} removed from cluster ${m[2]}\n`)
    const after = JSON.parse(bigIds(await ctlOk(['member', 'list', '-w', 'json'], all))) as { members: Member[] }
    t.same(after.members.map((x) => x.name).sort(), ['m1', 'm2', 'm3'])
    t.equal(await ctlOk(['put', '/after-remove', 'x'], all), 'OK\n', 'the 3 remaining members still take writes')
    const unknown = await etcdctl(['member', 'remove', id!], all)
    t.not(unknown.code, 0)
    t.match(unknown.stderr, /etcdserver: member not found/)
  })

  await t.test('HTTP on the client port: /health, /version, /metrics', async (t) => {
    for (const ep of eps) {
      const health = await fetch(`http://${ep}/health`)
      t.equal(health.status, 200)
      const body = (await health.json()) as { health: string }
      t.equal(body.health, 'true')
    }
    const version = (await (await fetch(`http://${eps[0]}/version`)).json()) as { etcdserver: string; etcdcluster: string }
    t.match(version.etcdserver, /^3\.\d+\.\d+$/)
    t.match(version.etcdcluster, /^3\.\d+\.\d+$/)
    const res = await fetch(`http://${eps[1]}/metrics`)
    t.equal(res.status, 200)
    t.match(res.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await res.text()
    t.match(text, /^etcd_server_has_leader 1$/m)
    // Prometheus text format: every line is a comment or `name{labels} value`.
    const bad = text.split('\n').filter((l) => l !== '' && !/^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(l) && !/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? -?([0-9.e+-]+|NaN|\+Inf|-Inf)( -?\d+)?$/.test(l))
    t.same(bad, [], 'every /metrics line parses as Prometheus text')
    const typed = new Set([...text.matchAll(/^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/gm)].map((x) => x[1]))
    t.ok(typed.has('etcd_server_has_leader'), 'etcd_server_has_leader has a TYPE line')
    const missing = await fetch(`http://${eps[0]}/nope`)
    t.equal(missing.status, 404)
  })

  await t.test('member list JSON header has no foreign fields etcdctl chokes on', async (t) => {
    const list = await ctlJson<{ header: { cluster_id: number } }>(['member', 'list'], all)
    t.ok(list.header.cluster_id, 'cluster_id set')
  })
})
