// Loads etcd's v3 API contract (proto/etcd/: etcdserverpb, mvccpb, authpb) with
// @grpc/proto-loader. The .proto files ship beside package.json, and this module runs
// either from src/kv/ (tsx, tap) or from dist/src/kv/ (compiled), so the directory is
// found by walking up rather than by a fixed `../..`.
//
// Default conversion options are the ones the etcd3 npm client uses for the same
// files (keepCase, longs: String, enums: String, defaults, oneofs), so objects look
// like etcd's own field names (`mod_revision`, `peerURLs`, `TTL`) and like what that
// client sends and expects. They cost an object conversion per message; a server's
// hot path can pass its own options (or encode with protobufjs directly) later.
//
// 64-bit fields are read as decimal strings (`longs: String`), deliberately:
//  - Lease IDs exceed 2^53. etcd (LeaseGrant with ID 0) takes the next value of its
//    request-ID generator (pkg/idutil): uint16(member ID) in bits 48..63, below it
//    40 bits of unix milliseconds at startup shifted over an 8-bit counter, then
//    clears bit 63. So bits 48..62 are the member ID's low 15 bits, and the ID is
//    >= 2^53 unless those bits are < 32: practically always (seen: 5762815321813258765).
//    As JS numbers these IDs round, and a KeepAlive or Revoke with a rounded ID is
//    answered NOT_FOUND `etcdserver: requested lease not found`. Our own store
//    should generate IDs the same way, so clients must not assume small IDs.
//  - cluster_id, member_id, Member.ID and Status.leader are uint64 hashes, so they
//    are above 2^53 as well.
//  - Revisions, versions and TTLs do fit in a double in practice; reading them as
//    strings too keeps one rule for every int64/uint64 field. When encoding,
//    proto-loader accepts a string, a number or a Long for these fields.
// Callers that compare or do arithmetic on revisions convert with Number() (safe for
// revisions) or BigInt() (IDs).

import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as protoLoader from '@grpc/proto-loader'

/** The .proto files of the contract, relative to etcdProtoDir(). */
export const ETCD_PROTO_FILES: readonly string[] = ['etcdserverpb/rpc.proto', 'mvccpb/kv.proto', 'authpb/auth.proto']

/** What the etcd3 npm client passes to proto-loader for these files. */
export const ETCD_PROTO_OPTIONS: Readonly<protoLoader.Options> = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
}

const PROTO_DIR = join('proto', 'etcd')

/**
 * The directory holding etcd's .proto files (the include root for their imports):
 * `proto/etcd` in the nearest ancestor of this module that also holds package.json.
 */
export function etcdProtoDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from
  for (;;) {
    const candidate = join(dir, PROTO_DIR)
    if (existsSync(join(dir, 'package.json')) && existsSync(join(candidate, ETCD_PROTO_FILES[0]))) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`etcd proto: ${PROTO_DIR} not found above ${from}`)
    dir = parent
  }
}

let cached: protoLoader.PackageDefinition | undefined

/**
 * etcd's v3 API as a grpc-js package definition: keys are fully qualified names
 * (`etcdserverpb.KV` is a ServiceDefinition for `server.addService`, and
 * `grpc.loadPackageDefinition` turns the whole into client constructors).
 * With no options the result is loaded once and shared; options are merged over
 * ETCD_PROTO_OPTIONS and load a fresh copy.
 */
export function loadEtcdProto(options?: protoLoader.Options): protoLoader.PackageDefinition {
  if (options === undefined && cached !== undefined) return cached
  const dir = etcdProtoDir()
  const def = protoLoader.loadSync([...ETCD_PROTO_FILES], { ...ETCD_PROTO_OPTIONS, ...options, includeDirs: [dir] })
  if (options === undefined) cached = def
  return def
}
