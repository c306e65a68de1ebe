// The DNS wire format (RFC 1035, with SRV of RFC 2782, AAAA of RFC 3596 and the
// EDNS(0) OPT pseudo-record of RFC 6891): just what a cluster DNS server reads and
// writes. Decoding follows compression pointers (only backwards, so a hostile packet
// cannot loop us) and rejects anything malformed with DnsFormatError (the server
// answers FORMERR); encoding compresses names. Record types we do not interpret
// travel as raw bytes.

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const
export const CLASS_IN = 1
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const
export const OPCODE_QUERY = 0

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]))

export function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `TYPE${code}`
}

export class DnsFormatError extends Error {
  override name = 'DnsFormatError'
}

export interface Flags {
  /** A response (QR). */
  response: boolean
  opcode: number
  authoritative: boolean
  truncated: boolean
  recursionDesired: boolean
  recursionAvailable: boolean
  authenticData: boolean
  checkingDisabled: boolean
  rcode: number
}

export interface Question {
  name: string
  type: number
  class: number
}

export type RecordData =
  | { type: 'A' | 'AAAA'; address: string }
  | { type: 'CNAME' | 'NS' | 'PTR'; target: string }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'SOA'; mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number }
  | { type: 'TXT'; texts: string[] }
  | { type: 'RAW'; code: number; rdata: Buffer }

export type ResourceRecord = { name: string; ttl: number; class?: number } & RecordData

/** EDNS(0): the OPT pseudo-record, kept apart from the additional records. */
export interface Edns {
  udpSize: number
  extendedRcode: number
  version: number
  dnssecOk: boolean
  options: Buffer
}

export interface DnsMessage {
  id: number
  flags: Flags
  questions: Question[]
  answers: ResourceRecord[]
  authorities: ResourceRecord[]
  additionals: ResourceRecord[]
  edns?: Edns
}

export function defaultFlags(over: Partial<Flags> = {}): Flags {
  return {
    response: false,
    opcode: OPCODE_QUERY,
    authoritative: false,
    truncated: false,
    recursionDesired: false,
    recursionAvailable: false,
    authenticData: false,
    checkingDisabled: false,
    rcode: 0,
    ...over,
  }
}

// ---- names ----

/** A name as compared: lower case, no trailing dot ("" is the root). */
export function canonicalName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name
  return n.toLowerCase()
}

function labelsOf(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name
  if (n === '') return []
  const labels = n.split('.')
  for (const l of labels) {
    if (l.length === 0 || Buffer.byteLength(l) > 63) throw new DnsFormatError(`bad DNS name ${JSON.stringify(name)}`)
  }
  return labels
}

// ---- decoding ----

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DnsFormatError('truncated DNS message')
  }
  u8(): number {
    this.need(1)
    return this.buf[this.pos++]!
  }
  u16(): number {
    this.need(2)
    const v = this.buf.readUInt16BE(this.pos)
    this.pos += 2
    return v
  }
  u32(): number {
    this.need(4)
    const v = this.buf.readUInt32BE(this.pos)
    this.pos += 4
    return v
  }
  bytes(n: number): Buffer {
    this.need(n)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }

  name(): string {
    const labels: string[] = []
    let pos = this.pos
    let jumped = false
    let length = 0
    for (;;) {
      if (pos >= this.buf.length) throw new DnsFormatError('truncated DNS name')
      const len = this.buf[pos]!
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DnsFormatError('truncated DNS name')
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!
        // Only backwards: a pointer can never loop.
        if (target >= pos) throw new DnsFormatError('bad DNS name compression pointer')
        if (!jumped) this.pos = pos + 2
        jumped = true
        pos = target
        continue
      }
      if ((len & 0xc0) !== 0) throw new DnsFormatError('bad DNS label type')
      if (len === 0) {
        if (!jumped) this.pos = pos + 1
        break
      }
      if (pos + 1 + len > this.buf.length) throw new DnsFormatError('truncated DNS label')
      length += len + 1
      if (length > 255) throw new DnsFormatError('DNS name too long')
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len))
      pos += 1 + len
    }
    return labels.join('.')
  }
}

function formatIPv6(b: Buffer): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16))
  return groups.join(':')
}

function readRecord(r: Reader): ResourceRecord | { opt: Edns } {
  const name = r.name()
  const type = r.u16()
  const cls = r.u16()
  const ttl = r.u32()
  const rdlength = r.u16()
  r.need(rdlength)
  const end = r.pos + rdlength
  const body = new Reader(r.buf, r.pos)
  let rec: ResourceRecord | { opt: Edns }
  switch (type) {
    case TYPE.OPT:
      rec = { opt: { udpSize: cls, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0, options: Buffer.from(body.bytes(rdlength)) } }
      break
    case TYPE.A:
      if (rdlength !== 4) throw new DnsFormatError('bad A record')
      rec = { name, ttl, class: cls, type: 'A', address: [...body.bytes(4)].join('.') }
      break
    case TYPE.AAAA:
      if (rdlength !== 16) throw new DnsFormatError('bad AAAA record')
      rec = { name, ttl, class: cls, type: 'AAAA', address: formatIPv6(body.bytes(16)) }
      break
    case TYPE.CNAME:
    case TYPE.NS:
    case TYPE.PTR:
      rec = { name, ttl, class: cls, type: type === TYPE.CNAME ? 'CNAME' : type === TYPE.NS ? 'NS' : 'PTR', target: body.name() }
      break
    case TYPE.SRV:
      rec = { name, ttl, class: cls, type: 'SRV', priority: body.u16(), weight: body.u16(), port: body.u16(), target: body.name() }
      break
    case TYPE.SOA:
      rec = { name, ttl, class: cls, type: 'SOA', mname: body.name(), rname: body.name(), serial: body.u32(), refresh: body.u32(), retry: body.u32(), expire: body.u32(), minimum: body.u32() }
      break
    case TYPE.TXT: {
      const texts: string[] = []
      while (body.pos < end) texts.push(body.bytes(body.u8()).toString('utf8'))
      rec = { name, ttl, class: cls, type: 'TXT', texts }
      break
    }
    default:
      rec = { name, ttl, class: cls, type: 'RAW', code: type, rdata: Buffer.from(body.bytes(rdlength)) }
  }
  if (body.pos > end) throw new DnsFormatError('DNS record overruns its rdata')
  r.pos = end
  return rec
}

/** The 16-bit id of a message (0 when it is too short to have one). */
export function messageId(buf: Buffer): number {
  return buf.length >= 2 ? buf.readUInt16BE(0) : 0
}

export function decodeMessage(buf: Buffer): DnsMessage {
  const r = new Reader(buf)
  const id = r.u16()
  const f = r.u16()
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()] as const
  const flags: Flags = {
    response: (f & 0x8000) !== 0,
    opcode: (f >>> 11) & 0xf,
    authoritative: (f & 0x0400) !== 0,
    truncated: (f & 0x0200) !== 0,
    recursionDesired: (f & 0x0100) !== 0,
    recursionAvailable: (f & 0x0080) !== 0,
    authenticData: (f & 0x0020) !== 0,
    checkingDisabled: (f & 0x0010) !== 0,
    rcode: f & 0xf,
  }
  const msg: DnsMessage = { id, flags, questions: [], answers: [], authorities: [], additionals: [] }
  for (let i = 0; i < counts[0]; i++) msg.questions.push({ name: r.name(), type: r.u16(), class: r.u16() })
  const sections = [msg.answers, msg.authorities, msg.additionals]
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      const rec = readRecord(r)
      if ('opt' in rec) {
        if (s !== 2 || msg.edns !== undefined) throw new DnsFormatError('misplaced OPT record')
        msg.edns = rec.opt
        msg.flags.rcode |= rec.opt.extendedRcode << 4
      } else sections[s]!.push(rec)
    }
  }
  return msg
}

// ---- encoding ----

class Writer {
  private buf = Buffer.alloc(512)
  pos = 0
  private readonly names = new Map<string, number>()

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
  u8(v: number): void {
    this.room(1)
    this.buf[this.pos++] = v
  }
  u16(v: number): void {
    this.room(2)
    this.buf.writeUInt16BE(v & 0xffff, this.pos)
    this.pos += 2
  }
  u32(v: number): void {
    this.room(4)
    this.buf.writeUInt32BE(v >>> 0, this.pos)
    this.pos += 4
  }
  bytes(b: Buffer): void {
    this.room(b.length)
    b.copy(this.buf, this.pos)
    this.pos += b.length
  }
  setU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at)
  }

  name(name: string, compress = true): void {
    const labels = labelsOf(name)
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase()
      const at = this.names.get(suffix)
      if (compress && at !== undefined) {
        this.u16(0xc000 | at)
        return
      }
      if (this.pos < 0x4000) this.names.set(suffix, this.pos)
      const label = Buffer.from(labels[i]!, 'latin1')
      this.u8(label.length)
      this.bytes(label)
    }
    this.u8(0)
  }

  done(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos))
  }
}

function parseIPv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number)
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${ip}`)
  return Buffer.from(parts)
}

function parseIPv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined]
  const h = head === '' || head === undefined ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const fill = tail === undefined ? 0 : 8 - h.length - t.length
  const groups = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t]
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) throw new Error(`bad IPv6 address ${ip}`)
  const out = Buffer.alloc(16)
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}

const TYPE_CODES: Record<Exclude<RecordData['type'], 'RAW'>, number> = {
  A: TYPE.A,
  AAAA: TYPE.AAAA,
  CNAME: TYPE.CNAME,
  NS: TYPE.NS,
  PTR: TYPE.PTR,
  SRV: TYPE.SRV,
  SOA: TYPE.SOA,
  TXT: TYPE.TXT,
}

export function recordTypeCode(rec: RecordData): number {
  return rec.type === 'RAW' ? rec.code : TYPE_CODES[rec.type]
}

function writeRecord(w: Writer, rec: ResourceRecord): void {
  w.name(rec.name)
  w.u16(recordTypeCode(rec))
  w.u16(rec.class ?? CLASS_IN)
  w.u32(rec.ttl)
  const lenAt = w.pos
  w.u16(0)
  const start = w.pos
  switch (rec.type) {
    case 'A':
      w.bytes(parseIPv4Bytes(rec.address))
      break
    case 'AAAA':
      w.bytes(parseIPv6Bytes(rec.address))
      break
    case 'CNAME':
    case 'NS':
    case 'PTR':
      w.name(rec.target)
      break
    case 'SRV':
      w.u16(rec.priority)
      w.u16(rec.weight)
      w.u16(rec.port)
      // RFC 2782: the target is not compressed.
      w.name(rec.target, false)
      break
    case 'SOA':
      w.name(rec.mname)
      w.name(rec.rname)
      w.u32(rec.serial)
      w.u32(rec.refresh)
      w.u32(rec.retry)
      w.u32(rec.expire)
      w.u32(rec.minimum)
      break
    case 'TXT':
      for (const t of rec.texts) {
        const b = Buffer.from(t, 'utf8')
        if (b.length > 255) throw new Error('TXT string longer than 255 bytes')
        w.u8(b.length)
        w.bytes(b)
      }
      break
    case 'RAW':
      w.bytes(rec.rdata)
  }
  w.setU16(lenAt, w.pos - start)
}

export function encodeMessage(msg: DnsMessage): Buffer {
  const w = new Writer()
  const f = msg.flags
  w.u16(msg.id)
  w.u16(
    (f.response ? 0x8000 : 0) |
      ((f.opcode & 0xf) << 11) |
      (f.authoritative ? 0x0400 : 0) |
      (f.truncated ? 0x0200 : 0) |
      (f.recursionDesired ? 0x0100 : 0) |
      (f.recursionAvailable ? 0x0080 : 0) |
      (f.authenticData ? 0x0020 : 0) |
      (f.checkingDisabled ? 0x0010 : 0) |
      (f.rcode & 0xf),
  )
  w.u16(msg.questions.length)
  w.u16(msg.answers.length)
  w.u16(msg.authorities.length)
  w.u16(msg.additionals.length + (msg.edns === undefined ? 0 : 1))
  for (const q of msg.questions) {
    w.name(q.name)
    w.u16(q.type)
    w.u16(q.class)
  }
  for (const rec of msg.answers) writeRecord(w, rec)
  for (const rec of msg.authorities) writeRecord(w, rec)
  for (const rec of msg.additionals) writeRecord(w, rec)
  if (msg.edns !== undefined) {
    const e = msg.edns
    w.u8(0)
    w.u16(TYPE.OPT)
    w.u16(e.udpSize)
    w.u32((((f.rcode >>> 4) & 0xff) << 24) | ((e.version & 0xff) << 16) | (e.dnssecOk ? 0x8000 : 0))
    w.u16(e.options.length)
    w.bytes(e.options)
  }
  return w.done()
}
