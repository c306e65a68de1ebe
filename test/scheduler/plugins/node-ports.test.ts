// NodePorts: host port conflicts by protocol, port and IP, 0.0.0.0 matching every IP.
import t from 'tap'
import { NodePorts } from '../../../src/scheduler/plugins/node-ports.js'
import { nodeInfo, podInfo, runFilter } from '../framework/fixtures.js'

const REASON = "node(s) didn't have free ports for the requested pod ports"

t.test('host port conflicts', async (t) => {
  const pl = new NodePorts()
  const node = nodeInfo({ name: 'n' }, { name: 'a', hostPorts: [{ port: 80 }] }, { name: 'b', hostPorts: [{ port: 53, protocol: 'UDP', ip: '10.0.0.1' }] })
  const fits = (ports: { port: number; ip?: string; protocol?: string }[]) => runFilter(pl, podInfo({ name: 'p', hostPorts: ports }), node) === undefined
  t.notOk(fits([{ port: 80 }]), 'same port, both 0.0.0.0')
  t.notOk(fits([{ port: 80, ip: '10.0.0.9' }]), 'a specific IP conflicts with 0.0.0.0')
  t.ok(fits([{ port: 80, protocol: 'UDP' }]), 'other protocol')
  t.ok(fits([{ port: 81 }]))
  t.notOk(fits([{ port: 53, protocol: 'UDP' }]), '0.0.0.0 conflicts with any IP')
  t.notOk(fits([{ port: 53, protocol: 'UDP', ip: '10.0.0.1' }]))
  t.ok(fits([{ port: 53, protocol: 'UDP', ip: '10.0.0.2' }]), 'different specific IPs coexist')
  t.ok(fits([{ port: 53 }]), 'TCP 53 is free')
  t.notOk(fits([{ port: 81 }, { port: 80 }]), 'any conflicting port rejects')
  const st = runFilter(pl, podInfo({ name: 'p', hostPorts: [{ port: 80 }] }), node)
  t.equal(st?.code, 'Unschedulable')
  t.same(st?.reasons, [REASON])
})

t.test('no host ports: PreFilter skips', async (t) => {
  t.same(new NodePorts().preFilter(new Map(), podInfo({ name: 'p' })), { skip: true })
})
