// Shared by the transport tests: a handler that records what it is told, polling
// waits, and transports that close themselves when the test ends.

import { createServer } from 'node:net'
import type { Test } from 'tap'
import { GrpcTransport, type GrpcTransportOptions, type TransportHandler } from '../../../src/raft/transport/grpc-transport.js'
import { message, MessageType, type Message, type NodeId } from '../../../src/raft/types.js'

export interface Recorder extends TransportHandler {
  messages: Message[]
  unreachable: NodeId[]
  snapshots: { peer: NodeId; ok: boolean }[]
}

export function recorder(): Recorder {
  const r: Recorder = {
    messages: [],
    unreachable: [],
    snapshots: [],
    onMessage: (m) => r.messages.push(m),
    onUnreachable: (peer) => r.unreachable.push(peer),
    onSnapshotStatus: (peer, ok) => r.snapshots.push({ peer, ok }),
  }
  return r
}

export async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export interface Member {
  transport: GrpcTransport
  handler: Recorder
}

/** A started transport on 127.0.0.1 (port 0 unless given), closed at teardown. */
export async function member(
  t: Test,
  id: NodeId,
  opts: Partial<Omit<GrpcTransportOptions, 'id' | 'handler'>> = {},
): Promise<Member> {
  const handler = recorder()
  const transport = new GrpcTransport({ id, clusterId: 'test', listen: '127.0.0.1:0', handler, ...opts })
  t.teardown(() => transport.close())
  await transport.start()
  return { transport, handler }
}

/** Adds every member to every other as a peer. */
export function mesh(members: Member[], ids: NodeId[]): void {
  members.forEach((m, i) =>
    members.forEach((other, j) => {
      if (i !== j) m.transport.addPeer(ids[j], other.transport.address)
    }),
  )
}

export function app(from: NodeId, to: NodeId, index: number, entries = 0, entryBytes = 256): Message {
  const data = new Uint8Array(entryBytes).fill(index & 0xff)
  return message({
    type: MessageType.App,
    from,
    to,
    term: 1,
    logTerm: 1,
    index,
    commit: index,
    entries: Array.from({ length: entries }, (_, k) => ({ term: 1, index: index + 1 + k, type: 0, data })),
  })
}

export function heartbeat(from: NodeId, to: NodeId, commit: number): Message {
  return message({ type: MessageType.Heartbeat, from, to, term: 1, commit })
}

/** A loopback port that nothing listens on (just released by the OS). */
export async function unusedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}
