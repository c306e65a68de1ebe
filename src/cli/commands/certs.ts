// `raftplane certs`: the TLS material for masters and nodes on separate machines, in
// one directory to copy from: ca.crt/ca.key, per master <name>-apiserver.crt/.key
// (`raftplane master --tls-cert-file/--tls-private-key-file`) and <name>-peer.crt/.key,
// per node <name>-kubelet.crt/.key, admin.crt/.key, and an admin kubeconfig. Run it
// again with more --master/--node flags to add some: the CA and every certificate
// already there are kept (--force replaces certificates, never the CA).
import { writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { FILES, type MasterSpec, parseMasterSpec, urlHost, validNodeName, writeClusterCerts } from '../../certs/cluster-certs.js'
import { adminKubeconfig } from '../../certs/kubeconfig.js'

interface CertsFlags {
  dir: string
  master?: MasterSpec[]
  node?: string[]
  server?: string
  securePort: number
  force?: boolean
}

function collectMaster(v: string, prev: MasterSpec[] = []): MasterSpec[] {
  let spec: MasterSpec
  try {
    spec = parseMasterSpec(v)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
  if (prev.some((m) => m.name === spec.name)) throw new InvalidArgumentError(`master ${spec.name} is given twice`)
  return [...prev, spec]
}

function collectNode(v: string, prev: string[] = []): string[] {
  if (!validNodeName(v)) throw new InvalidArgumentError(`node name ${JSON.stringify(v)} must be a DNS subdomain (lower-case letters, digits, '-', '.')`)
  if (prev.includes(v)) throw new InvalidArgumentError(`node ${v} is given twice`)
  return [...prev, v]
}

function httpsUrl(v: string): string {
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw new InvalidArgumentError(`not a URL: ${v} (expected https://host:port)`)
  }
  if (u.protocol !== 'https:' || u.hostname === '') throw new InvalidArgumentError(`expected https://host:port, got ${v}`)
  return v.replace(/\/+$/, '')
}

function port(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError(`not a port: ${v}`)
  return n
}

export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description('make the CA and the certificates for masters, nodes and the admin (one directory; run again to add some)')
    .addOption(new Option('--dir <dir>', 'where to write them (the CA there is reused)').default('pki'))
    .addOption(new Option('--master <name=host[,ip…]>', 'a master: its --name, then the host names and IPs it is reached at (repeat per master)').argParser(collectMaster))
    .addOption(new Option('--node <name>', "a node's --name, for its client certificate (repeat per node)").argParser(collectNode))
    .addOption(new Option('--server <url>', "the kubeconfig's default server, https://host:port (a load balancer); default: the first master").argParser(httpsUrl))
    .addOption(new Option('--secure-port <port>', "the masters' --secure-port, for the kubeconfig's servers").argParser(port).default(6443))
    .addOption(new Option('--force', 'replace certificates that exist already (never the CA)'))
    .action(async (flags: CertsFlags) => {
      const f = { ...flags, master: flags.master ?? [], node: flags.node ?? [] }
      const dir = resolve(f.dir)
      const shown = (p: string): string => {
        const rel = relative(process.cwd(), p)
        return rel.startsWith('..') ? p : rel
      }
      let made
      try {
        made = await writeClusterCerts({ dir, masters: f.master, nodes: f.node, force: f.force === true })
      } catch (err) {
        console.error(`raftplane certs: ${(err as Error).message}`)
        process.exitCode = 1
        return
      }
      const caFile = join(dir, `${FILES.ca}.crt`)
      console.log(`${made.caAction === 'wrote' ? 'wrote ' : 'kept  '}${shown(caFile)}, ca.key  (the cluster CA)`)
      for (const c of made.files) {
        const verb = c.action === 'kept' ? 'kept  ' : c.action === 'replaced' ? 'replaced ' : 'wrote '
        const note = c.action === 'kept' ? (c.warning === undefined ? '; exists, --force replaces it' : `; WARNING: ${c.warning} — --force replaces it`) : ''
        console.log(`${verb}${shown(c.crt)}, .key  (${c.what}${note})`)
      }
      if (f.master.length > 0 || f.server !== undefined) {
        const masters = f.master.map((m) => ({ name: m.name, server: `https://${urlHost(m)}:${f.securePort}` }))
        const server = f.server ?? masters[0]!.server
        const file = join(dir, 'kubeconfig')
        await writeFile(file, adminKubeconfig(made.ca, made.admin, { server, masters }), { mode: 0o600 })
        console.log(`wrote ${shown(file)}  (admin kubeconfig: ${server}${masters.length > 0 ? `; contexts ${masters.map((m) => m.name).join(', ')}` : ''})`)
      }
      const m = f.master[0]
      if (m !== undefined) {
        const base = shown(join(dir, FILES.apiserver(m.name)))
        console.log(`use: raftplane master --name ${m.name} --tls-cert-file ${base}.crt --tls-private-key-file ${base}.key …`)
      }
      if (f.node.length > 0) console.log(`use: raftplane node --name ${f.node[0]} --certificate-authority ${shown(caFile)} --apiservers …`)
    })
}
