// Generates the Kubernetes protobuf wire contracts the API server decodes request bodies
// with (kubectl's typed clients send `application/vnd.kubernetes.protobuf`):
//
//   npx tsx scripts/gen-k8s-proto.ts [--api GITDIR] [--apimachinery GITDIR] [--ref TAG]
//
// Sources: bare clones of github.com/kubernetes/api and github.com/kubernetes/apimachinery
// (defaults: the read-only mirrors under /work/.mirror; `git clone --bare <url>` makes
// one), read at one release tag (default v0.32.13, the 1.32 line this server reports).
//
// Writes, replacing what is there:
// - proto/k8s/<import path>/generated.proto: for each proto package, only the messages
//   reachable from the kinds the server decodes, transcribed declaration by declaration
//   (package, message and field names, numbers, labels, types; no comments or options),
//   so the upstream import paths keep working with proto/k8s as the include root.
// - src/apiserver/protobuf/generated/go-json.ts: what the JSON encoding of the same Go
//   structs needs and the wire does not say, read from the struct tags of the Go types
//   beside each generated.proto: the JSON key when it is not the proto name, pointer
//   fields (present on the wire only when set, and then emitted even when zero),
//   fields without `omitempty` (emitted even when zero) and `json:",inline"` fields;
//   which messages are Go named slices (`type ExtraValue []string`); the proto files;
//   and the kind → message table.
//
// Kinds: every kind of src/api/resources.ts (stored and converted versions), plus the bodies of the verbs and
// subresources around them (EXTRA_KINDS).
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONVERTED_RESOURCES, RESOURCES, apiVersionOf } from '../src/api/resources.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const PROTO_OUT = join(ROOT, 'proto', 'k8s')
const TS_OUT = join(ROOT, 'src', 'apiserver', 'protobuf', 'generated', 'go-json.ts')

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1'
const RUNTIME = 'k8s.io.apimachinery.pkg.runtime'

interface Root {
  /** `apps/v1`; `*` for an options kind every group version registers. */
  apiVersion: string
  kind: string
  message: string
}

/** Request bodies besides the served kinds: subresources, options, reviews. */
const EXTRA_KINDS: Root[] = [
  { apiVersion: 'v1', kind: 'Binding', message: 'k8s.io.api.core.v1.Binding' },
  { apiVersion: 'policy/v1', kind: 'Eviction', message: 'k8s.io.api.policy.v1.Eviction' },
  { apiVersion: 'autoscaling/v1', kind: 'Scale', message: 'k8s.io.api.autoscaling.v1.Scale' },
  { apiVersion: '*', kind: 'DeleteOptions', message: `${META}.DeleteOptions` },
  { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions', message: `${META}.DeleteOptions` },
  ...['SelfSubjectAccessReview', 'SubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview'].map((kind) => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind,
    message: `k8s.io.api.authorization.v1.${kind}`,
  })),
  ...['TokenReview', 'TokenRequest', 'SelfSubjectReview'].map((kind) => ({
    apiVersion: 'authentication.k8s.io/v1',
    kind,
    message: `k8s.io.api.authentication.v1.${kind}`,
  })),
]

/** Messages the decoder maps to JSON by hand (custom MarshalJSON in Go): no Go fields needed. */
const SPECIAL = new Set([
  `${META}.Time`,
  `${META}.MicroTime`,
  `${META}.Duration`,
  `${META}.FieldsV1`,
  'k8s.io.apimachinery.pkg.api.resource.Quantity',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString',
  `${RUNTIME}.RawExtension`,
  // The envelope itself.
  `${RUNTIME}.Unknown`,
  `${RUNTIME}.TypeMeta`,
])

const SCALARS = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes'])

// ---- reading the sources ----

interface Options {
  api: string
  apimachinery: string
  ref: string
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { api: '/work/.mirror/kubernetes+api/repo', apimachinery: '/work/.mirror/kubernetes+apimachinery/repo', ref: 'v0.32.13' }
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]]
    if (value === undefined) throw new Error(`${flag}: missing value`)
    if (flag === '--api') opts.api = value
    else if (flag === '--apimachinery') opts.apimachinery = value
    else if (flag === '--ref') opts.ref = value
    else throw new Error(`unknown flag ${flag}`)
  }
  return opts
}

/** Where a proto package lives: its repository and the directory in it. */
function locate(opts: Options, pkg: string): { gitDir: string; dir: string; importPath: string } {
  const importDir = 'k8s.io/' + pkg.slice('k8s.io.'.length).replaceAll('.', '/')
  for (const [prefix, gitDir] of [
    ['k8s.io/api/', opts.api],
    ['k8s.io/apimachinery/', opts.apimachinery],
  ] as const) {
    if (importDir.startsWith(prefix)) return { gitDir, dir: importDir.slice(prefix.length), importPath: `${importDir}/generated.proto` }
  }
  throw new Error(`no source repository for proto package ${pkg}`)
}

function git(gitDir: string, args: string[]): string {
  return execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 })
}

// ---- generated.proto: declarations only ----

interface ProtoField {
  label: 'optional' | 'repeated' | 'map'
  /** The type as written upstream: `string`, `ObjectMeta`, `.k8s.io.….ObjectMeta`, `map<string, string>`. */
  type: string
  name: string
  number: number
  /** Message types referenced, fully qualified (a map's value type included). */
  refs: string[]
}

interface ProtoMessage {
  name: string
  fields: ProtoField[]
}

interface ProtoPackage {
  name: string
  messages: Map<string, ProtoMessage>
}

function qualify(pkg: string, type: string): string | undefined {
  if (SCALARS.has(type)) return undefined
  if (type.startsWith('.')) return type.slice(1)
  if (type.includes('.')) throw new Error(`${pkg}: relative type reference ${type}`)
  return `${pkg}.${type}`
}

function parseProto(pkg: string, text: string): ProtoPackage {
  const body = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
  const declared = /^package\s+([\w.]+);/m.exec(body)?.[1]
  if (declared !== pkg) throw new Error(`expected package ${pkg}, found ${declared}`)
  const messages = new Map<string, ProtoMessage>()
  for (const m of body.matchAll(/^message\s+(\w+)\s*\{([^}]*)\}/gm)) {
    const fields: ProtoField[] = []
    for (const line of m[2]!.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
      const map = /^map<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+);$/.exec(line)
      const plain = /^(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+);$/.exec(line)
      if (map !== null) {
        const ref = qualify(pkg, map[2]!)
        fields.push({ label: 'map', type: `map<${map[1]}, ${map[2]}>`, name: map[3]!, number: Number(map[4]), refs: ref === undefined ? [] : [ref] })
      } else if (plain !== null) {
        const ref = qualify(pkg, plain[2]!)
        fields.push({ label: plain[1] as 'optional' | 'repeated', type: plain[2]!, name: plain[3]!, number: Number(plain[4]), refs: ref === undefined ? [] : [ref] })
      } else {
        throw new Error(`${pkg}.${m[1]}: cannot read field declaration: ${line}`)
      }
    }
    messages.set(m[1]!, { name: m[1]!, fields })
  }
  return { name: pkg, messages }
}

// ---- Go struct tags ----

interface GoField {
  jsonName: string
  omitempty: boolean
  inline: boolean
  pointer: boolean
  /** `json:"-"`: never in JSON. */
  skip: boolean
}

/** Go structs of one package: struct name → protobuf field number → its Go side. */
type GoStructs = Map<string, Map<number, GoField>>

function parseGoStructs(files: string[]): { structs: GoStructs; slices: Set<string> } {
  const structs: GoStructs = new Map()
  const slices = new Set<string>()
  for (const text of files) {
    for (const s of text.matchAll(/^type\s+(\w+)\s+\[\][\w.*]+\s*$/gm)) slices.add(s[1]!)
    for (const s of text.matchAll(/^type\s+(\w+)\s+struct\s*\{\n([\s\S]*?)^\}/gm)) {
      const fields = new Map<number, GoField>()
      for (const raw of s[2]!.split('\n')) {
        const line = raw.trim()
        if (line.startsWith('//') || !line.includes('protobuf:"')) continue
        const m = /^(?:(\w+)\s+)?(\S+)\s+`([^`]*)`/.exec(line)
        if (m === null) throw new Error(`${s[1]}: cannot read Go field: ${line}`)
        const tag = m[3]!
        const proto = /(?:^|\s)protobuf:"([^"]*)"/.exec(tag)?.[1]
        if (proto === undefined || proto === '-') continue
        const number = Number(proto.split(',')[1])
        const json = /(?:^|\s)json:"([^"]*)"/.exec(tag)?.[1]
        const [name = '', ...jsonOpts] = (json ?? '').split(',')
        const inline = jsonOpts.includes('inline')
        fields.set(number, { jsonName: name, omitempty: jsonOpts.includes('omitempty'), inline, pointer: m[2]!.startsWith('*'), skip: name === '-' })
      }
      structs.set(s[1]!, fields)
    }
  }
  return { structs, slices }
}

function readGoPackage(opts: Options, pkg: string): { structs: GoStructs; slices: Set<string> } {
  const { gitDir, dir } = locate(opts, pkg)
  const names = git(gitDir, ['ls-tree', '--name-only', `${opts.ref}:${dir}`])
    .split('\n')
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go') && !f.startsWith('zz_generated') && !f.includes('generated.pb') && !f.includes('swagger_doc'))
  return parseGoStructs(names.map((f) => git(gitDir, ['show', `${opts.ref}:${dir}/${f}`])))
}

// ---- the closure of the roots ----

function roots(): Root[] {
  const served = [...RESOURCES, ...CONVERTED_RESOURCES].map((r) => ({
    apiVersion: apiVersionOf(r),
    kind: r.kind,
    message: `k8s.io.api.${r.group === '' ? 'core' : r.group.split('.')[0]}.${r.version}.${r.kind}`,
  }))
  return [...served, ...EXTRA_KINDS, { apiVersion: '', kind: '', message: `${RUNTIME}.Unknown` }]
}

function splitName(full: string): [pkg: string, name: string] {
  const i = full.lastIndexOf('.')
  return [full.slice(0, i), full.slice(i + 1)]
}

function closure(opts: Options, start: string[]): { packages: Map<string, ProtoPackage>; included: Set<string> } {
  const packages = new Map<string, ProtoPackage>()
  const load = (pkg: string): ProtoPackage => {
    let p = packages.get(pkg)
    if (p === undefined) {
      const { gitDir, dir } = locate(opts, pkg)
      p = parseProto(pkg, git(gitDir, ['show', `${opts.ref}:${dir}/generated.proto`]))
      packages.set(pkg, p)
    }
    return p
  }
  const included = new Set<string>()
  const queue = [...start]
  while (queue.length > 0) {
    const full = queue.pop()!
    if (included.has(full)) continue
    const [pkg, name] = splitName(full)
    const message = load(pkg).messages.get(name)
    if (message === undefined) throw new Error(`message ${full} not found`)
    included.add(full)
    for (const f of message.fields) queue.push(...f.refs)
  }
  return { packages, included }
}

// ---- writing ----

const HEADER = (opts: Options): string =>
  `// Generated by scripts/gen-k8s-proto.ts from k8s.io/api and k8s.io/apimachinery ${opts.ref}.\n` +
  '// Wire contract only (names, numbers, types) of the messages raftplane decodes; do not edit.\n'

function writeProtos(opts: Options, packages: Map<string, ProtoPackage>, included: Set<string>): string[] {
  rmSync(PROTO_OUT, { recursive: true, force: true })
  const files: string[] = []
  for (const pkg of [...packages.keys()].sort()) {
    const messages = [...packages.get(pkg)!.messages.values()].filter((m) => included.has(`${pkg}.${m.name}`))
    if (messages.length === 0) continue
    const imports = new Set<string>()
    for (const m of messages) for (const f of m.fields) for (const r of f.refs) if (splitName(r)[0] !== pkg) imports.add(locate(opts, splitName(r)[0]).importPath)
    const lines = [HEADER(opts), 'syntax = "proto2";', '', `package ${pkg};`, '']
    if (imports.size > 0) lines.push(...[...imports].sort().map((i) => `import "${i}";`), '')
    for (const m of messages) {
      lines.push(`message ${m.name} {`)
      for (const f of m.fields) lines.push(`  ${f.label === 'map' ? '' : f.label + ' '}${f.type} ${f.name} = ${f.number};`)
      lines.push('}', '')
    }
    const path = locate(opts, pkg).importPath
    mkdirSync(dirname(join(PROTO_OUT, path)), { recursive: true })
    writeFileSync(join(PROTO_OUT, path), lines.join('\n').replace(/\n+$/, '\n'))
    files.push(path)
  }
  return files
}

interface FieldShape {
  json?: string
  ptr?: true
  always?: true
  inline?: true
  skip?: true
}

function goShapes(opts: Options, packages: Map<string, ProtoPackage>, included: Set<string>): { shapes: Map<string, Record<string, FieldShape>>; slices: string[] } {
  const shapes = new Map<string, Record<string, FieldShape>>()
  const slices: string[] = []
  for (const pkg of [...packages.keys()].sort()) {
    const messages = [...packages.get(pkg)!.messages.values()].filter((m) => included.has(`${pkg}.${m.name}`) && !SPECIAL.has(`${pkg}.${m.name}`))
    if (messages.length === 0) continue
    const go = readGoPackage(opts, pkg)
    for (const m of messages) {
      const full = `${pkg}.${m.name}`
      if (go.slices.has(m.name)) {
        if (m.fields.length !== 1 || m.fields[0]!.label !== 'repeated' || m.fields[0]!.name !== 'items') throw new Error(`${full}: a Go slice type but not a repeated items message`)
        slices.push(full)
        continue
      }
      const struct = go.structs.get(m.name)
      if (struct === undefined) throw new Error(`${full}: no Go struct ${m.name}`)
      const shape: Record<string, FieldShape> = {}
      for (const f of m.fields) {
        const g = struct.get(f.number)
        if (g === undefined) throw new Error(`${full}.${f.name}: no Go field with protobuf tag ${f.number}`)
        if (g.jsonName === '' && !g.inline) throw new Error(`${full}.${f.name}: the Go field has no JSON name`)
        const s: FieldShape = {}
        if (g.skip) s.skip = true
        else if (g.inline) s.inline = true
        else if (g.jsonName !== f.name) s.json = g.jsonName
        if (g.pointer) s.ptr = true
        if (!g.omitempty && !g.inline && !g.skip) s.always = true
        if (Object.keys(s).length > 0) shape[f.name] = s
      }
      if (Object.keys(shape).length > 0) shapes.set(full, shape)
    }
  }
  return { shapes, slices }
}

function writeGoJson(opts: Options, protoFiles: string[], kinds: Root[], shapes: Map<string, Record<string, FieldShape>>, slices: string[]): void {
  const q = (s: string): string => `'${s}'`
  const shape = (s: FieldShape): string => `{ ${Object.entries(s).map(([k, v]) => `${k}: ${v === true ? 'true' : q(String(v))}`).join(', ')} }`
  const out = [
    HEADER(opts).replace('Wire contract only (names, numbers, types) of the messages raftplane decodes', 'The JSON side of the Go structs behind proto/k8s (from their struct tags)'),
    '/** How a field differs from the default: JSON key = proto name, not a pointer, `omitempty`. */',
    'export interface GoFieldShape {',
    '  /** The JSON key, when it is not the proto field name. */',
    '  readonly json?: string',
    '  /** A Go pointer: on the wire only when set, and then in JSON even when zero. */',
    '  readonly ptr?: true',
    '  /** No `omitempty`: in JSON even when zero (null for a nil slice, map or pointer). */',
    '  readonly always?: true',
    '  /** `json:",inline"`: the message\'s fields are the parent\'s. */',
    '  readonly inline?: true',
    '  /** `json:"-"`: never in JSON. */',
    '  readonly skip?: true',
    '}',
    '',
    '/** The .proto files, relative to proto/k8s (the include root of their imports). */',
    'export const PROTO_FILES: readonly string[] = [',
    ...protoFiles.map((f) => `  ${q(f)},`),
    ']',
    '',
    '/** `apiVersion/kind` → message; the apiVersion `*` for options every group version registers. */',
    'export const KIND_MESSAGES: ReadonlyMap<string, string> = new Map([',
    ...kinds.filter((k) => k.kind !== '').map((k) => `  [${q(`${k.apiVersion}/${k.kind}`)}, ${q(k.message)}],`),
    '])',
    '',
    '/** Messages that are Go named slices (`type ExtraValue []string`): JSON arrays of their items. */',
    `export const GO_SLICES: ReadonlySet<string> = new Set([${slices.map(q).join(', ')}])`,
    '',
    '/** Per message, the fields that differ from the default shape. */',
    'export const GO_FIELDS: ReadonlyMap<string, Readonly<Record<string, GoFieldShape>>> = new Map<string, Record<string, GoFieldShape>>([',
  ]
  for (const [message, fields] of shapes) {
    out.push(`  [${q(message)}, {`)
    for (const [name, s] of Object.entries(fields)) out.push(`    ${name}: ${shape(s)},`)
    out.push('  }],')
  }
  out.push('])', '')
  mkdirSync(dirname(TS_OUT), { recursive: true })
  writeFileSync(TS_OUT, out.join('\n'))
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2))
  const kinds = roots()
  const { packages, included } = closure(opts, kinds.map((k) => k.message))
  const protoFiles = writeProtos(opts, packages, included)
  const { shapes, slices } = goShapes(opts, packages, included)
  writeGoJson(opts, protoFiles, kinds, shapes, slices)
  process.stdout.write(`${included.size} messages in ${protoFiles.length} proto files; Go shapes for ${shapes.size} messages\n`)
}

main()
