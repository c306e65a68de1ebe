// The TLS material of a cluster spread over machines, in one directory: the CA, each
// master's certificates, each node's client certificate and the admin's. The CA is
// made once and reused, so the same directory grows as masters and nodes are added;
// a certificate already there is kept unless `force` says to replace it, because
// replacing it under a running component breaks that component's peers. The CA itself
// is never replaced here (every other certificate hangs on it): delete it to start over.
import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { type CertRequest, issueCert, type KeyPair, newCA } from './pki.js'

/** One master: its name (member name, file names) and the host names and IPs it is reached at. */
export interface MasterSpec {
  name: string
  /** Where clients reach it: the first host name or IP given, else the name. */
  host: string
  dnsNames: string[]
  ips: string[]
}

export interface ClusterCertsRequest {
  dir: string
  masters: MasterSpec[]
  nodes: string[]
  force: boolean
}

export interface CertFile {
  /** The certificate's path; its key is beside it with .key. */
  crt: string
  key: string
  what: string
  action: 'wrote' | 'replaced' | 'kept'
  /** Why a kept certificate may not be what was asked for. */
  warning?: string
}

export interface ClusterCerts {
  ca: KeyPair
  caAction: 'wrote' | 'kept'
  admin: KeyPair
  files: CertFile[]
}

/** The file names `raftplane master` and `raftplane node` are pointed at (without .crt/.key). */
export const FILES = {
  ca: 'ca',
  admin: 'admin',
  /** --tls-cert-file / --tls-private-key-file: the apiserver and the node API. */
  apiserver: (master: string) => `${master}-apiserver`,
  /** The store member's peer identity (server and client auth). */
  peer: (master: string) => `${master}-peer`,
  /** The kubelet's client certificate, CN system:node:<name>. */
  kubelet: (node: string) => `${node}-kubelet`,
}

/** The names every apiserver answers to inside the cluster, as kube-apiserver's certificate carries them. */
const KUBERNETES_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']
const KUBERNETES_SERVICE_IP = '10.96.0.1'

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** `name=host[,host|ip…]` (the certs command's --master): a DNS-label name, host names and IPs. */
export function parseMasterSpec(v: string): MasterSpec {
  const eq = v.indexOf('=')
  const name = eq < 0 ? v : v.slice(0, eq)
  if (!LABEL.test(name)) throw new Error(`master name ${JSON.stringify(name)} must be a DNS label (lower-case letters, digits, '-'); expected name=host[,ip…]`)
  const hosts = eq < 0 ? [] : v.slice(eq + 1).split(',').map((s) => s.trim()).filter(Boolean)
  const spec: MasterSpec = { name, host: hosts[0]?.toLowerCase() ?? name, dnsNames: [], ips: [] }
  for (const h of hosts) {
    if (isIP(h) !== 0) spec.ips.push(h)
    else if (SUBDOMAIN.test(h.toLowerCase())) spec.dnsNames.push(h.toLowerCase())
    else throw new Error(`${JSON.stringify(h)} (master ${name}) is neither a host name nor an IP address`)
  }
  return spec
}

export function validNodeName(name: string): boolean {
  return SUBDOMAIN.test(name)
}

/** A master's host as the authority of a URL (IPv6 in brackets). */
export function urlHost(m: MasterSpec): string {
  return isIP(m.host) === 6 ? `[${m.host}]` : m.host
}

const uniq = (xs: string[]): string[] => [...new Set(xs)]

function masterServing(m: MasterSpec): CertRequest {
  return {
    commonName: 'kube-apiserver',
    dnsNames: uniq([m.name, ...m.dnsNames, 'localhost', ...KUBERNETES_NAMES]),
    ips: uniq([...m.ips, '127.0.0.1', '::1', KUBERNETES_SERVICE_IP]),
    usage: 'server',
  }
}

function masterPeer(m: MasterSpec): CertRequest {
  return { commonName: m.name, dnsNames: uniq([m.name, ...m.dnsNames, 'localhost']), ips: uniq([...m.ips, '127.0.0.1', '::1']), usage: 'both' }
}

/** Why an existing certificate does not match the request (another CA, missing SANs), or undefined. */
function mismatch(existing: string, ca: KeyPair, req: CertRequest): string | undefined {
  const cert = new X509Certificate(existing)
  if (!cert.checkIssued(new X509Certificate(ca.certPem)) || !cert.verify(new X509Certificate(ca.certPem).publicKey)) return 'it was not issued by this ca.crt'
  const missing = [...(req.dnsNames ?? []).filter((d) => cert.checkHost(d, { wildcards: false }) === undefined), ...(req.ips ?? []).filter((ip) => cert.checkIP(ip) === undefined)]
  if (missing.length > 0) return `it lacks ${missing.join(', ')}`
  return undefined
}

/** Makes (or keeps) the CA, the admin's certificate and one per master and node in `dir`. */
export async function writeClusterCerts(r: ClusterCertsRequest): Promise<ClusterCerts> {
  await mkdir(r.dir, { recursive: true, mode: 0o700 })
  const path = (base: string, ext: 'crt' | 'key'): string => join(r.dir, `${base}.${ext}`)
  const caCrt = path(FILES.ca, 'crt')
  const caKey = path(FILES.ca, 'key')
  let ca: KeyPair
  let caAction: ClusterCerts['caAction']
  if (existsSync(caCrt) || existsSync(caKey)) {
    if (!existsSync(caCrt) || !existsSync(caKey)) throw new Error(`${existsSync(caCrt) ? caKey : caCrt} is missing: both ca.crt and ca.key are needed to sign (delete the other to make a new CA)`)
    ca = { certPem: await readFile(caCrt, 'utf8'), keyPem: await readFile(caKey, 'utf8') }
    caAction = 'kept'
  } else {
    ca = newCA('raftplane-ca')
    await writeFile(caKey, ca.keyPem, { mode: 0o600 })
    await writeFile(caCrt, ca.certPem)
    caAction = 'wrote'
  }
  const files: CertFile[] = []
  const ensure = async (base: string, what: string, req: CertRequest): Promise<KeyPair> => {
    const crt = path(base, 'crt')
    const key = path(base, 'key')
    const exists = existsSync(crt) || existsSync(key)
    if (exists && !r.force) {
      if (!existsSync(crt) || !existsSync(key)) throw new Error(`${existsSync(crt) ? key : crt} is missing (its pair is there); --force makes both again`)
      const kp = { certPem: await readFile(crt, 'utf8'), keyPem: await readFile(key, 'utf8') }
      const warning = mismatch(kp.certPem, ca, req)
      files.push({ crt, key, what, action: 'kept', ...(warning === undefined ? {} : { warning }) })
      return kp
    }
    const kp = issueCert(ca, req)
    await writeFile(key, kp.keyPem, { mode: 0o600 })
    await writeFile(crt, kp.certPem)
    files.push({ crt, key, what, action: exists ? 'replaced' : 'wrote' })
    return kp
  }
  for (const m of r.masters) {
    await ensure(FILES.apiserver(m.name), `${m.name} serving: apiserver and node API`, masterServing(m))
    await ensure(FILES.peer(m.name), `${m.name} store peer: server and client`, masterPeer(m))
  }
  for (const n of r.nodes) {
    await ensure(FILES.kubelet(n), `${n} kubelet client: system:node:${n}`, { commonName: `system:node:${n}`, organizations: ['system:nodes'], usage: 'client' })
  }
  const admin = await ensure(FILES.admin, 'admin client: kubernetes-admin, system:masters', { commonName: 'kubernetes-admin', organizations: ['system:masters'], usage: 'client' })
  return { ca, caAction, admin, files }
}
