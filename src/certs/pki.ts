// Certificates for the cluster: a CA and certificates it signs (serving certificates
// with the right SANs, client certificates with CN = user and O = groups, as
// Kubernetes reads them). Keys come from Node's native RSA generator; node-forge
// builds and signs the X.509 structures.
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import forge from 'node-forge'

export interface KeyPair {
  certPem: string
  keyPem: string
}

export interface CertRequest {
  commonName: string
  organizations?: string[]
  dnsNames?: string[]
  ips?: string[]
  usage: 'server' | 'client' | 'both'
  days?: number
}

function newKey(): { keyPem: string; key: forge.pki.rsa.PrivateKey; pub: forge.pki.rsa.PublicKey } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  return { keyPem, key: forge.pki.privateKeyFromPem(keyPem), pub: forge.pki.publicKeyFromPem(pubPem) as forge.pki.rsa.PublicKey }
}

function serial(): string {
  // A positive 128-bit serial (the top bit cleared so DER keeps it positive).
  const b = randomBytes(16)
  b[0]! &= 0x7f
  return b.toString('hex')
}

/**
 * A subject attribute. node-forge writes every value as a PrintableString, which
 * cannot hold `@`, `_`, `*` and the like (the kubelet's `node@timestamp` names):
 * Go's x509 parser, Prometheus' among them, then refuses the whole certificate.
 * Such values are written as UTF8String instead, as Go's own encoder does.
 */
function nameAttr(name: string, value: string): forge.pki.CertificateField {
  if (/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value)) return { name, value }
  return { name, value: forge.util.encodeUtf8(value), valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class }
}

function validity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now()
  // Backdated a little so a clock a few minutes behind still accepts it.
  cert.validity.notBefore = new Date(now - 5 * 60 * 1000)
  cert.validity.notAfter = new Date(now + days * 24 * 3600 * 1000)
}

export function newCA(commonName = 'raftplane-ca', days = 3650): KeyPair {
  const { keyPem, key, pub } = newKey()
  const cert = forge.pki.createCertificate()
  cert.publicKey = pub
  cert.serialNumber = serial()
  validity(cert, days)
  const attrs = [nameAttr('commonName', commonName)]
  cert.setSubject(attrs)
  cert.setIssuer(attrs)
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  cert.sign(key, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem }
}

export function issueCert(ca: KeyPair, req: CertRequest): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem)
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem)
  const { keyPem, pub } = newKey()
  const cert = forge.pki.createCertificate()
  cert.publicKey = pub
  cert.serialNumber = serial()
  validity(cert, req.days ?? 365)
  const subject: forge.pki.CertificateField[] = [nameAttr('commonName', req.commonName)]
  for (const o of req.organizations ?? []) subject.push(nameAttr('organizationName', o))
  cert.setSubject(subject)
  cert.setIssuer(caCert.subject.attributes)
  const altNames = [...(req.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(req.ips ?? []).map((ip) => ({ type: 7, ip }))]
  const extensions: Record<string, unknown>[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: req.usage !== 'client', clientAuth: req.usage !== 'server' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames })
  cert.setExtensions(extensions)
  cert.sign(caKey, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem }
}
