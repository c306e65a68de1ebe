// `raftplane lb`: the TCP load balancer `raftplane up` runs in front of its apiservers
// (../load-balancer.ts), on its own, for clusters whose masters run on separate
// machines: kubeconfigs point at it and keep working when a master dies or its
// machine drops off the network. TLS passes through; each backend's /readyz is
// checked over HTTPS against the cluster CA (its certificate must name the address
// given here, as `raftplane certs --master NAME=HOST,IP` makes it) every
// --check-interval, and a connect that gets no answer within --connect-timeout moves
// on to the next master.
import { readFile } from 'node:fs/promises'
import { get as httpsGet } from 'node:https'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { pino } from 'pino'
import { parseGoDuration } from '../../api/go-duration.js'
import { type Backend, LoadBalancer } from '../load-balancer.js'
import { portInUse, portInUseMessage } from '../port-holder.js'

interface LbFlags {
  listen: { host: string; port: number }
  backend: Backend[]
  certificateAuthority: string
  checkInterval: number
  connectTimeout: number
  logLevel: string
}

function duration(v: string): number {
  try {
    return parseGoDuration(v)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

/** host:port, [v6]:port. */
export function hostPort(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v.trim())
  const port = Number(m?.[3])
  if (m === null || port > 65535) throw new InvalidArgumentError(`${JSON.stringify(v)} is not host:port`)
  return { host: m[1] ?? m[2]!, port }
}

/** Repeatable and comma-separated: --backend a:6443 --backend b:6443,c:6443. */
function backends(v: string, previous: Backend[] = []): Backend[] {
  const more = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const { host, port } = hostPort(s)
      return { name: s, host, port }
    })
  return [...previous, ...more]
}

/** Whether the apiserver at b answers /readyz with 200, its certificate verified against `ca` for b.host. */
function readyz(b: Backend, ca: Buffer, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet({ host: b.host, port: b.port, path: '/readyz', ca, timeout: timeoutMs }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}

export function registerLb(program: Command): void {
  program
    .command('lb')
    .description('a TCP load balancer in front of the apiservers of masters on other machines (health-checked, TLS passed through)')
    .addOption(new Option('--listen <host:port>', 'where clients connect').argParser(hostPort).default(hostPort('0.0.0.0:6443'), '0.0.0.0:6443'))
    .addOption(new Option('--backend <host:port>', "a master's apiserver (repeatable, or comma-separated)").argParser(backends).makeOptionMandatory())
    .requiredOption('--certificate-authority <ca.crt>', "the cluster CA, to check each master's /readyz over HTTPS")
    .addOption(new Option('--check-interval <duration>', 'how often each backend is checked').argParser(duration).default(250, '250ms'))
    .addOption(new Option('--connect-timeout <duration>', 'how long a connect may take before the next backend is tried').argParser(duration).default(1000, '1s'))
    .addOption(new Option('--log-level <level>', 'debug, info, warn, error').default('info'))
    .action(async (f: LbFlags) => {
      const logger = pino({ level: f.logLevel, base: { component: 'lb' } }, pino.destination(2))
      let ca: Buffer
      try {
        ca = await readFile(f.certificateAuthority)
      } catch (err) {
        console.error(`raftplane lb: --certificate-authority: ${(err as Error).message}`)
        process.exitCode = 1
        return
      }
      if (await portInUse(f.listen.host, f.listen.port)) {
        console.error(`raftplane lb: ${await portInUseMessage(f.listen.port, '--listen', 'change --listen')}`)
        process.exitCode = 1
        return
      }
      const lb = new LoadBalancer({
        backends: f.backend,
        check: (b) => readyz(b, ca, Math.max(200, Math.min(1000, f.checkInterval * 4))),
        checkIntervalMs: f.checkInterval,
        connectTimeoutMs: f.connectTimeout,
        onChange: (b, healthy) => (healthy ? logger.info({ backend: b.name }, 'backend up') : logger.warn({ backend: b.name }, 'backend down')),
      })
      const port = await lb.listen(f.listen.host, f.listen.port)
      logger.info({ listen: `${f.listen.host}:${port}`, backends: f.backend.map((b) => b.name) }, 'load balancing')
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve())
        process.once('SIGTERM', () => resolve())
      })
      await lb.close()
    })
}
