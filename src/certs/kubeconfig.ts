// An admin kubeconfig with the certificates inline, so the one file is all kubectl
// needs: a default context at one server (a load balancer, or one master) and a
// context per master for reaching one on purpose.
import { stringify } from 'yaml'
import type { KeyPair } from './pki.js'

export interface KubeconfigServers {
  /** The default context's server, https://host:port. */
  server: string
  /** One context each, named after the master. */
  masters: { name: string; server: string }[]
}

export function adminKubeconfig(ca: KeyPair, admin: KeyPair, s: KubeconfigServers): string {
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64')
  const cluster = (name: string, server: string) => ({ name, cluster: { server, 'certificate-authority-data': b64(ca.certPem) } })
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [cluster('raftplane', s.server), ...s.masters.map((m) => cluster(`raftplane-${m.name}`, m.server))],
    users: [{ name: 'admin', user: { 'client-certificate-data': b64(admin.certPem), 'client-key-data': b64(admin.keyPem) } }],
    contexts: [
      { name: 'raftplane', context: { cluster: 'raftplane', user: 'admin' } },
      ...s.masters.map((m) => ({ name: m.name, context: { cluster: `raftplane-${m.name}`, user: 'admin' } })),
    ],
    'current-context': 'raftplane',
  }, { lineWidth: 0 })
}
