// Building Kubernetes protobuf bodies for tests: a message encoded with protobufjs from
// the same contracts the decoder loads (a field is on the wire exactly when the plain
// object has it), wrapped in the `k8s\0` + runtime.Unknown envelope.
import { kubeProtoRoot } from '../../../src/apiserver/protobuf/schema.js'

export const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00])

const PKG: Record<string, string> = {
  v1: 'k8s.io.api.core.v1',
  'apps/v1': 'k8s.io.api.apps.v1',
  'rbac.authorization.k8s.io/v1': 'k8s.io.api.rbac.v1',
  'authorization.k8s.io/v1': 'k8s.io.api.authorization.v1',
  'policy/v1': 'k8s.io.api.policy.v1',
}

/** A message's wire bytes from a plain object with proto field names. */
export function encode(message: string, fields: object): Buffer {
  const type = kubeProtoRoot().lookupType(message)
  return Buffer.from(type.encode(type.fromObject(fields)).finish())
}

/** The envelope around already-encoded message bytes. */
export function envelope(apiVersion: string, kind: string, raw: Uint8Array, extra: { contentEncoding?: string; contentType?: string } = {}): Buffer {
  return Buffer.concat([MAGIC, encode('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion, kind }, raw, ...extra })])
}

/** A whole body: `kind` of `apiVersion` (core, apps, rbac, authorization, policy) from a plain object. */
export function body(apiVersion: string, kind: string, fields: object): Buffer {
  const pkg = PKG[apiVersion]
  if (pkg === undefined) throw new Error(`helpers: no package for ${apiVersion}`)
  return envelope(apiVersion, kind, encode(`${pkg}.${kind}`, fields))
}
