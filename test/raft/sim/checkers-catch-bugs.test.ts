import t from 'tap'
import { RaftLog } from '../../../src/raft/log.js'
import { Raft } from '../../../src/raft/raft.js'
import { RawNode } from '../../../src/raft/rawnode.js'
import type { Message } from '../../../src/raft/types.js'
import { runSchedule } from './schedule.js'

// A checker that never fails proves nothing. Each test plants a known Raft bug and
// expects the random schedules to report it within a bounded number of seeds.

function firstViolation(seeds: number): string | undefined {
  for (let seed = 1; seed <= seeds; seed++) {
    try {
      runSchedule(seed)
    } catch (err) {
      return `seed ${seed}: ${(err as Error).message}`
    }
  }
  return undefined
}

t.test('granting votes to candidates with stale logs is caught as a leader completeness violation', async (t) => {
  const orig = RaftLog.prototype.isUpToDate
  t.teardown(() => {
    RaftLog.prototype.isUpToDate = orig
  })
  RaftLog.prototype.isUpToDate = () => true
  const v = firstViolation(300)
  t.match(v, /leader completeness|state machine safety|log matching|durability/)
})

t.test('answering ReadIndex without confirming leadership is caught as a stale read', async (t) => {
  type Internals = { sendReadIndexResponse(m: Message): void; respondToReadIndex(m: Message, index: number): void }
  const proto = Raft.prototype as unknown as Internals
  const orig = proto.sendReadIndexResponse
  t.teardown(() => {
    proto.sendReadIndexResponse = orig
  })
  proto.sendReadIndexResponse = function (this: Internals & Pick<Raft, 'raftLog'>, m: Message) {
    this.respondToReadIndex(m, this.raftLog.committed)
  }
  const v = firstViolation(500)
  t.match(v, /stale read/)
})

t.test('acknowledging appends and votes before they are durable is caught once nodes crash mid-write', async (t) => {
  const orig = RawNode.prototype.ready
  t.teardown(() => {
    RawNode.prototype.ready = orig
  })
  RawNode.prototype.ready = function (this: RawNode) {
    const rd = orig.call(this)
    rd.sendBeforePersist = true
    return rd
  }
  const v = firstViolation(1000)
  t.match(v, /leader completeness|state machine safety|log matching|durability|election safety/)
})
