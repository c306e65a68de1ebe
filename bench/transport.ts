// Raft peer transport micro benchmark: codec cost per batch, then messages pushed
// between two GrpcTransports on loopback (one process, so both ends share an event
// loop, as they never will in a real cluster). Run: npx tsx bench/transport.ts
//
// Two batch shapes, both 256 entries of 256 bytes per send():
//   256 msgs x 1 entry  - many small App messages, the transport's per-message cost
//   1 msg x 256 entries - what a raft leader actually sends to a follower catching up

import { decodeBatch, encodeBatch } from '../src/raft/transport/codec.js'
import { GrpcTransport } from '../src/raft/transport/grpc-transport.js'
import { message, MessageType, type Message } from '../src/raft/types.js'

const ENTRY_BYTES = 256
const ENTRIES_PER_BATCH = 256
const RUN_MS = 3000
// Batches sent but not yet received; bounds the transport's queue so nothing drops.
const IN_FLIGHT = 8

interface Shape {
  name: string
  batch: (firstIndex: number) => Message[]
}

const data = new Uint8Array(ENTRY_BYTES).fill(0xab)
const entry = (index: number) => ({ term: 1, index, type: 0, data })
const app = (index: number, entries: number): Message =>
  message({
    type: MessageType.App,
    from: 1,
    to: 2,
    term: 1,
    logTerm: 1,
    index,
    commit: index,
    entries: Array.from({ length: entries }, (_, k) => entry(index + 1 + k)),
  })

const shapes: Shape[] = [
  {
    name: '256 msgs x 1 entry',
    batch: (first) => Array.from({ length: ENTRIES_PER_BATCH }, (_, i) => app(first + i, 1)),
  },
  { name: '1 msg x 256 entries', batch: (first) => [app(first, ENTRIES_PER_BATCH)] },
]

function codec(shape: Shape): void {
  const batch = shape.batch(1)
  let wire = encodeBatch(batch)
  const rounds = 2000
  for (let i = 0; i < 200; i++) decodeBatch(encodeBatch(batch)) // warm up the JIT
  let t0 = performance.now()
  for (let i = 0; i < rounds; i++) wire = encodeBatch(batch)
  const encodeUs = ((performance.now() - t0) * 1000) / rounds
  t0 = performance.now()
  for (let i = 0; i < rounds; i++) decodeBatch(wire)
  const decodeUs = ((performance.now() - t0) * 1000) / rounds
  console.log(
    `codec  ${shape.name.padEnd(20)} ${wire.length} B/batch  encode ${encodeUs.toFixed(1)} us  decode ${decodeUs.toFixed(1)} us` +
      `  (${Math.round((ENTRIES_PER_BATCH * 1e6) / (encodeUs + decodeUs)).toLocaleString('en-US')} entries/s through both)`,
  )
}

async function stream(shape: Shape): Promise<void> {
  let received = 0
  let receivedEntries = 0
  let dropped = 0
  const receiver = new GrpcTransport({
    id: 2,
    clusterId: 'bench',
    listen: '127.0.0.1:0',
    handler: {
      onMessage: (m) => {
        received++
        receivedEntries += m.entries.length
      },
      onUnreachable: () => {},
      onSnapshotStatus: () => {},
    },
  })
  const sender = new GrpcTransport({
    id: 1,
    clusterId: 'bench',
    listen: '127.0.0.1:0',
    handler: { onMessage: () => {}, onUnreachable: () => dropped++, onSnapshotStatus: () => {} },
  })
  await receiver.start()
  await sender.start()
  sender.addPeer(2, receiver.address)

  const perBatch = shape.batch(0).length
  let sentBatches = 0
  let index = 1
  const started = performance.now()
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (performance.now() - started >= RUN_MS) return resolve()
      while (sentBatches * perBatch - received < IN_FLIGHT * perBatch) {
        sender.send(shape.batch(index))
        index += ENTRIES_PER_BATCH
        sentBatches++
      }
      setImmediate(pump)
    }
    pump()
  })
  const seconds = (performance.now() - started) / 1000
  await sender.close()
  await receiver.close()
  const mb = (receivedEntries * ENTRY_BYTES) / 1e6
  console.log(
    `stream ${shape.name.padEnd(20)} ${Math.round(received / seconds).toLocaleString('en-US')} msgs/s  ` +
      `${Math.round(receivedEntries / seconds).toLocaleString('en-US')} entries/s  ${(mb / seconds).toFixed(1)} MB/s of entry data` +
      (dropped > 0 ? `  (${dropped} drop reports)` : ''),
  )
}

for (const shape of shapes) codec(shape)
for (const shape of shapes) await stream(shape)
