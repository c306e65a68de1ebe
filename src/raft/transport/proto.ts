// Loads proto/raft.proto once and hands out its reflected types. The file ships beside
// package.json, and this module runs either from src/ (tsx, tap) or from dist/src/
// (compiled), so the path is found by walking up rather than by a fixed `../..`.

import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

const PROTO = join('proto', 'raft.proto')

function findProto(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, PROTO)
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`raft transport: ${PROTO} not found above ${fileURLToPath(import.meta.url)}`)
    dir = parent
  }
}

const root = protobuf.loadSync(findProto())

function type(name: string): protobuf.Type {
  return root.lookupType(`raftplane.raft.v1.${name}`)
}

export const MessageBatchType = type('MessageBatch')
export const SnapshotChunkType = type('SnapshotChunk')
