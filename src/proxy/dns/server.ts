// The node's cluster DNS server: UDP and TCP on one address and port, answering the
// cluster domain from ./cluster-zone.ts and relaying every other name to upstream
// resolvers through ./forwarder.ts (REFUSED when it has none). Answers over UDP
// that do not fit the client's size (512 bytes, or its EDNS(0) size up to 1232) come
// back empty with TC set, so the client asks again over TCP.
import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, type Server, type Socket } from 'node:net'
import { Counter, type Registry } from 'prom-client'
import type { Logger } from '../../client/index.js'
import { errorMessage, silentLogger } from '../../client/index.js'
import type { ClusterZone, ZoneAnswer } from './cluster-zone.js'
import type { Forwarder } from './forwarder.js'
import { CLASS_IN, decodeMessage, defaultFlags, type DnsMessage, DnsFormatError, encodeMessage, OPCODE_QUERY, RCODE, typeName } from './wire.js'

/** Our EDNS(0) buffer size: the DNS flag day 2020 figure that avoids IP fragmentation. */
const EDNS_UDP_SIZE = 1232
const TCP_IDLE_MS = 10_000

export interface DnsServerOptions {
  /** The local address to listen on. */
  address: string
  /** 0: any free port (tests). */
  port: number
  zone: ClusterZone
  forwarder?: Forwarder
  metrics?: Registry
  logger?: Logger
}

interface DnsMetrics {
  requests: Counter<'proto' | 'type'>
  responses: Counter<'rcode'>
}

const metricsByRegistry = new WeakMap<Registry, DnsMetrics>()

function dnsMetrics(registry: Registry): DnsMetrics {
  let m = metricsByRegistry.get(registry)
  if (m === undefined) {
    m = {
      // CoreDNS's names, with fewer labels.
      requests: new Counter({ name: 'coredns_dns_requests_total', help: 'Counter of DNS requests made per protocol and type.', labelNames: ['proto', 'type'], registers: [registry] }),
      responses: new Counter({ name: 'coredns_dns_responses_total', help: 'Counter of response status codes.', labelNames: ['rcode'], registers: [registry] }),
    }
    metricsByRegistry.set(registry, m)
  }
  return m
}

const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([k, v]) => [v, k]))

export class DnsServer {
  private udp: UdpSocket | undefined
  private tcp: Server | undefined
  private readonly conns = new Set<Socket>()
  private readonly log: Logger
  private readonly metrics: DnsMetrics | undefined
  private boundPort = 0

  constructor(private readonly o: DnsServerOptions) {
    this.log = o.logger ?? silentLogger
    this.metrics = o.metrics === undefined ? undefined : dnsMetrics(o.metrics)
  }

  get address(): string {
    return this.o.address
  }

  get port(): number {
    return this.boundPort
  }

  /** Binds UDP, then TCP on the same port; rejects (binding nothing) when either cannot bind. */
  async start(): Promise<void> {
    const udp = createSocket({ type: 'udp4' })
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind({ address: this.o.address, port: this.o.port, exclusive: true }, () => {
        udp.off('error', reject)
        resolve()
      })
    })
    const port = udp.address().port
    const tcp = createServer((sock) => this.serveTcp(sock))
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject)
        tcp.listen({ host: this.o.address, port, exclusive: true }, () => {
          tcp.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      udp.close()
      throw err
    }
    udp.on('error', (err) => this.log.warn({ err: errorMessage(err) }, 'cluster DNS: UDP socket error'))
    udp.on('message', (msg, rinfo) => {
      void this.handle(msg, 'udp').then((res) => {
        if (res !== undefined && this.udp === udp) udp.send(res, rinfo.port, rinfo.address)
      })
    })
    tcp.on('error', (err) => this.log.warn({ err: errorMessage(err) }, 'cluster DNS: TCP listener error'))
    this.udp = udp
    this.tcp = tcp
    this.boundPort = port
  }

  async stop(): Promise<void> {
    const udp = this.udp
    const tcp = this.tcp
    this.udp = undefined
    this.tcp = undefined
    udp?.close()
    for (const c of this.conns) c.destroy()
    this.conns.clear()
    if (tcp !== undefined) await new Promise<void>((resolve) => tcp.close(() => resolve()))
  }

  private serveTcp(sock: Socket): void {
    this.conns.add(sock)
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy())
    sock.on('error', () => {})
    sock.on('close', () => this.conns.delete(sock))
    let buf = Buffer.alloc(0)
    let chain = Promise.resolve()
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0))
        buf = buf.subarray(2 + msg.length)
        // Answers go back in the order the queries came.
        chain = chain.then(async () => {
          const res = await this.handle(Buffer.from(msg), 'tcp')
          if (res === undefined || sock.destroyed) return
          const len = Buffer.alloc(2)
          len.writeUInt16BE(res.length)
          sock.write(Buffer.concat([len, res]))
        })
      }
    })
  }

  /** The response to one query's bytes, or undefined to send nothing. Never rejects. */
  async handle(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    try {
      return await this.respond(query, transport)
    } catch (err) {
      // A bug or an unencodable record (say an ExternalName that is no DNS name): SERVFAIL, not a dead server.
      this.log.warn({ err: errorMessage(err) }, 'cluster DNS: query failed')
      if (query.length < 12) return undefined
      try {
        const q = decodeMessage(query)
        return this.reply({ ...q, answers: [], authorities: [], additionals: [] }, RCODE.SERVFAIL, undefined, transport)
      } catch {
        return undefined
      }
    }
  }

  private async respond(query: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let msg: DnsMessage
    try {
      msg = decodeMessage(query)
    } catch (err) {
      if (!(err instanceof DnsFormatError) || query.length < 12) return undefined
      return this.reply({ id: query.readUInt16BE(0), flags: defaultFlags(), questions: [], answers: [], authorities: [], additionals: [] }, RCODE.FORMERR, undefined, transport)
    }
    if (msg.flags.response) return undefined
    if (msg.flags.opcode !== OPCODE_QUERY) return this.reply(msg, RCODE.NOTIMP, undefined, transport)
    if (msg.questions.length !== 1) return this.reply(msg, RCODE.FORMERR, undefined, transport)
    const q = msg.questions[0]!
    this.metrics?.requests.inc({ proto: transport, type: typeName(q.type) })
    const answer = q.class === CLASS_IN || q.class === 255 ? this.o.zone.answer(q) : undefined
    if (answer === undefined) {
      const fw = this.o.forwarder
      if (fw === undefined || !fw.enabled) return this.reply(msg, RCODE.REFUSED, undefined, transport)
      const res = await fw.forward(query, transport)
      if (res === undefined) return this.reply(msg, RCODE.SERVFAIL, undefined, transport)
      if (res.length >= 4) this.metrics?.responses.inc({ rcode: RCODE_NAMES.get(res[3]! & 0xf) ?? String(res[3]! & 0xf) })
      return res
    }
    if (answer.externalTarget !== undefined) await this.resolveExternal(answer, answer.externalTarget, q.type)
    return this.reply(msg, answer.rcode, answer, transport)
  }

  /** Appends what the upstream resolvers say about an ExternalName's target (as CoreDNS does). */
  private async resolveExternal(answer: ZoneAnswer, target: string, type: number): Promise<void> {
    const fw = this.o.forwarder
    if (fw === undefined || !fw.enabled) return
    const query = encodeMessage({
      id: Math.floor(Math.random() * 0x10000),
      flags: defaultFlags({ recursionDesired: true }),
      questions: [{ name: target, type, class: CLASS_IN }],
      answers: [],
      authorities: [],
      additionals: [],
    })
    const res = await fw.forward(query, 'udp')
    if (res === undefined) return
    try {
      const up = decodeMessage(res)
      answer.answers.push(...up.answers)
      if (up.flags.rcode === RCODE.NXDOMAIN) answer.rcode = RCODE.NXDOMAIN
    } catch {
      // an upstream's garbage adds nothing
    }
  }

  private reply(query: DnsMessage, rcode: number, answer: ZoneAnswer | undefined, transport: 'udp' | 'tcp'): Buffer {
    this.metrics?.responses.inc({ rcode: RCODE_NAMES.get(rcode) ?? String(rcode) })
    const res: DnsMessage = {
      id: query.id,
      flags: defaultFlags({
        response: true,
        opcode: query.flags.opcode,
        authoritative: answer !== undefined && answer.externalTarget === undefined,
        recursionDesired: query.flags.recursionDesired,
        recursionAvailable: this.o.forwarder?.enabled ?? false,
        checkingDisabled: query.flags.checkingDisabled,
        rcode,
      }),
      questions: query.questions,
      answers: answer?.answers ?? [],
      authorities: answer?.authorities ?? [],
      additionals: answer?.additionals ?? [],
    }
    if (query.edns !== undefined) res.edns = { udpSize: EDNS_UDP_SIZE, extendedRcode: 0, version: 0, dnssecOk: false, options: Buffer.alloc(0) }
    let bytes = encodeMessage(res)
    const limit = query.edns === undefined ? 512 : Math.max(512, Math.min(query.edns.udpSize, EDNS_UDP_SIZE))
    if (transport === 'udp' && bytes.length > limit) {
      res.flags.truncated = true
      res.answers = []
      res.authorities = []
      res.additionals = []
      bytes = encodeMessage(res)
    }
    return bytes
  }
}
