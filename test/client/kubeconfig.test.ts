// RestClient options from kubeconfigs as kubectl and `raftplane up` write them.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadKubeconfig, parseKubeconfig } from '../../src/client/kubeconfig.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')

const config = `
apiVersion: v1
kind: Config
current-context: admin@raftplane
clusters:
  - name: raftplane
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority-data: ${b64('CA PEM')}
      tls-server-name: kubernetes
  - name: other
    cluster:
      server: http://127.0.0.1:8080
      insecure-skip-tls-verify: true
users:
  - name: admin
    user:
      client-certificate-data: ${b64('CERT PEM')}
      client-key-data: ${b64('KEY PEM')}
  - name: bot
    user:
      token: abc.def
  - name: files
    user:
      tokenFile: token.txt
      client-certificate: certs/client.crt
      client-key: certs/client.key
contexts:
  - name: admin@raftplane
    context: { cluster: raftplane, user: admin }
  - name: bot
    context: { cluster: other, user: bot, namespace: kube-system }
  - name: files
    context: { cluster: raftplane, user: files }
  - name: broken
    context: { cluster: nowhere, user: bot }
`

t.test('the current context: server, CA and client certificate from inline data', async (t) => {
  const o = parseKubeconfig(config)
  t.same(o.urls, ['https://127.0.0.1:6443'])
  t.equal(o.namespace, 'default')
  t.equal(o.context, 'admin@raftplane')
  t.equal(o.tls?.ca?.toString(), 'CA PEM')
  t.equal(o.tls?.cert?.toString(), 'CERT PEM')
  t.equal(o.tls?.key?.toString(), 'KEY PEM')
  t.equal(o.tls?.serverName, 'kubernetes')
  t.equal(o.token, undefined)
})

t.test('a named context: token, namespace, insecure-skip-tls-verify', async (t) => {
  const o = parseKubeconfig(config, { context: 'bot' })
  t.same(o.urls, ['http://127.0.0.1:8080'])
  t.equal(o.token, 'abc.def')
  t.equal(o.namespace, 'kube-system')
  t.same(o.tls, { insecureSkipVerify: true })
})

t.test('files relative to the kubeconfig', async (t) => {
  const dir = t.testdir({ 'token.txt': 'from-file\n', certs: { 'client.crt': 'FILE CERT', 'client.key': 'FILE KEY' } })
  writeFileSync(join(dir, 'kubeconfig'), config)
  const o = loadKubeconfig(join(dir, 'kubeconfig'), { context: 'files' })
  t.equal(o.token, 'from-file')
  t.equal(o.tls?.cert?.toString(), 'FILE CERT')
  t.equal(o.tls?.key?.toString(), 'FILE KEY')
})

t.test('errors name what is missing', async (t) => {
  t.throws(() => parseKubeconfig(config, { context: 'nope' }), /context "nope" not found/)
  t.throws(() => parseKubeconfig(config, { context: 'broken' }), /cluster "nowhere" not found/)
  t.throws(() => parseKubeconfig('apiVersion: v1\nkind: Config\n'), /no current-context/)
})
