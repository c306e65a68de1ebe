// Generates src/apiserver/openapi/generated/definitions.ts: the Kubernetes type schemas
// (OpenAPI v2 `definitions`, named as kube-apiserver names them) that /openapi/v2 and
// /openapi/v3 are built from at run time.
//
//   npx tsx scripts/gen-openapi.ts [--types DIR]
//
// Sources, both Apache-2.0 packages from the npm registry:
// - kubernetes-types (TypeScript declarations generated from the upstream OpenAPI spec,
//   one file per API group version): type names, Go packages, fields, which fields are
//   required, descriptions (kept in JSDoc, including those of fields that refer to another
//   type, which @kubernetes/client-node drops) and the apiVersion/kind of top-level types.
//   Fetched with `npm pack` unless --types points at an unpacked copy.
// - @kubernetes/client-node (installed): its models' attributeTypeMap carries the OpenAPI
//   `format` of each field (int32, int64, byte, double), which TypeScript's `number` loses.
//
// Only the types reachable from the served catalog (src/api/resources.ts) and the API
// machinery types the paths use are kept. Patch strategies and list types are not in
// either source; the run-time builder adds them from src/api/patch-meta.ts.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
// The models alone: the package's entry point also loads its HTTP stack, which needs a newer Node.
import * as clientNode from '@kubernetes/client-node/dist/gen/models/all.js'
import ts from 'typescript'
import { RESOURCES } from '../src/api/resources.js'

const TYPES_PACKAGE = 'kubernetes-types@1.30.0'
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'src/apiserver/openapi/generated/definitions.ts')

type Schema = { [key: string]: unknown }

interface TypeDecl {
  /** Full definition name: io.k8s.api.core.v1.Pod */
  name: string
  module: string
  local: string
  node: ts.InterfaceDeclaration | ts.TypeAliasDeclaration
  description: string | undefined
  imports: Map<string, string>
  source: ts.SourceFile
}

/** kubernetes-types module path (`core/v1`, `meta/v1`, `api/resource`) → Go package prefix. */
function packageOf(module: string): string {
  switch (module) {
    case 'meta/v1':
      return 'io.k8s.apimachinery.pkg.apis.meta.v1'
    case 'api/resource':
      return 'io.k8s.apimachinery.pkg.api.resource'
    case 'runtime':
      return 'io.k8s.apimachinery.pkg.runtime'
    case 'version':
      return 'io.k8s.apimachinery.pkg.version'
    case 'apiextensions/v1':
      return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1'
  }
  return `io.k8s.api.${module.replace('/', '.')}`
}

function fetchTypes(): { dir: string; cleanup: () => void } {
  const tmp = mkdtempSync(join(tmpdir(), 'gen-openapi-'))
  const tgz = execFileSync('npm', ['pack', TYPES_PACKAGE, '--silent', '--pack-destination', tmp], { encoding: 'utf8' }).trim().split('\n').pop()!
  execFileSync('tar', ['xzf', join(tmp, tgz), '-C', tmp])
  return { dir: join(tmp, 'package'), cleanup: () => rmSync(tmp, { recursive: true, force: true }) }
}

function declarationFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry)
    if (statSync(p).isDirectory()) out.push(...declarationFiles(p))
    else if (entry.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** The text of the JSDoc block right before a node, without its comment markers. */
function docOf(node: ts.Node, source: ts.SourceFile): string | undefined {
  const ranges = ts.getLeadingCommentRanges(source.text, node.pos) ?? []
  const last = ranges.filter((r) => source.text.startsWith('/**', r.pos)).pop()
  if (last === undefined) return undefined
  const raw = source.text.slice(last.pos + 3, last.end - 2)
  const lines = raw.split('\n').map((l) => l.replace(/^\s*\* ?/, '').replace(/\s+$/, ''))
  const text = lines.join('\n').trim().replaceAll('*\\/', '*/')
  return text === '' ? undefined : text
}

function loadDeclarations(dir: string): Map<string, TypeDecl> {
  const decls = new Map<string, TypeDecl>()
  for (const file of declarationFiles(dir)) {
    const module = relative(dir, file).replace(/\.d\.ts$/, '')
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const imports = new Map<string, string>()
    for (const stmt of source.statements) {
      if (!ts.isImportDeclaration(stmt) || !ts.isStringLiteral(stmt.moduleSpecifier)) continue
      const from = join(dirname(module), stmt.moduleSpecifier.text)
      const bindings = stmt.importClause?.namedBindings
      if (bindings !== undefined && ts.isNamedImports(bindings)) for (const el of bindings.elements) imports.set(el.name.text, from)
    }
    for (const stmt of source.statements) {
      if (!ts.isInterfaceDeclaration(stmt) && !ts.isTypeAliasDeclaration(stmt)) continue
      const name = `${packageOf(module)}.${stmt.name.text}`
      decls.set(name, { name, module, local: stmt.name.text, node: stmt, description: docOf(stmt, source), imports, source })
    }
  }
  return decls
}

interface ClientModel {
  attributeTypeMap: { baseName: string; type: string; format: string }[]
}

/** client-node's model for a type, found by its generated name (V1Pod, CoreV1Event, …). */
function clientModelFor(decl: TypeDecl, fields: string[]): ClientModel | undefined {
  const models = clientNode as unknown as Record<string, Partial<ClientModel> | undefined>
  const [group = '', version = ''] = decl.module.split('/')
  const v = version.charAt(0).toUpperCase() + version.slice(1)
  const g = group
    .split(/[.-]/)
    .map((s) => s.charAt(0).toUpperCase() + s.slice(1))
    .join('')
  const candidates = [`${v}${decl.local}`, `${g}${v}${decl.local}`, decl.local]
  let best: ClientModel | undefined
  let bestScore = 0
  for (const c of candidates) {
    const m = models[c]
    if (m?.attributeTypeMap === undefined) continue
    const names = new Set(m.attributeTypeMap.map((a) => a.baseName))
    const score = fields.filter((f) => names.has(f)).length + 1
    if (score > bestScore) {
      best = m as ClientModel
      bestScore = score
    }
  }
  return best
}

class Generator {
  readonly out = new Map<string, Schema>()
  private readonly queue: string[] = []

  constructor(private readonly decls: Map<string, TypeDecl>) {}

  require(name: string): void {
    if (!this.decls.has(name)) throw new Error(`no type ${name} in kubernetes-types`)
    if (!this.out.has(name) && !this.queue.includes(name)) this.queue.push(name)
  }

  run(): void {
    for (let name = this.queue.shift(); name !== undefined; name = this.queue.shift()) {
      if (this.out.has(name)) continue
      this.out.set(name, this.definition(this.decls.get(name)!))
    }
  }

  private refTo(decl: TypeDecl, local: string): string {
    const from = decl.imports.get(local) ?? decl.module
    const name = `${packageOf(from)}.${local}`
    this.require(name)
    return name
  }

  private definition(decl: TypeDecl): Schema {
    const base: Schema = decl.description === undefined ? {} : { description: decl.description }
    const node = decl.node
    if (ts.isTypeAliasDeclaration(node)) {
      // Time, MicroTime, Quantity: strings on the wire.
      if (decl.local === 'Time' || decl.local === 'MicroTime') return { ...base, type: 'string', format: 'date-time' }
      return { ...base, ...this.typeSchema(decl, node.type, '') }
    }
    const properties: Record<string, Schema> = {}
    const required: string[] = []
    const literals = new Map<string, string>()
    const members = node.members.filter(ts.isPropertySignature)
    const fieldName = (m: ts.PropertySignature): string => (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : m.name.getText(decl.source))
    const model = clientModelFor(decl, members.map(fieldName))
    for (const m of members) {
      const field = fieldName(m)
      if (m.type === undefined) continue
      if (ts.isLiteralTypeNode(m.type) && ts.isStringLiteral(m.type.literal)) literals.set(field, m.type.literal.text)
      const format = model?.attributeTypeMap.find((a) => a.baseName === field)
      const schema = this.typeSchema(decl, m.type, format?.format ?? '')
      const description = docOf(m, decl.source)
      properties[field] = description === undefined ? schema : { ...schema, description }
      if (m.questionToken === undefined) required.push(field)
    }
    const def: Schema = { ...base, type: 'object' }
    if (Object.keys(properties).length > 0) def.properties = properties
    if (required.length > 0) def.required = required
    const apiVersion = literals.get('apiVersion')
    const kind = literals.get('kind')
    if (apiVersion !== undefined && kind !== undefined) {
      const slash = apiVersion.indexOf('/')
      def['x-kubernetes-group-version-kind'] = [{ group: slash < 0 ? '' : apiVersion.slice(0, slash), kind, version: apiVersion.slice(slash + 1) }]
    }
    return def
  }

  /** Schema of a field's type. `format` comes from client-node's model. */
  private typeSchema(decl: TypeDecl, node: ts.TypeNode, format: string): Schema {
    switch (node.kind) {
      case ts.SyntaxKind.StringKeyword:
        return format === 'byte' ? { type: 'string', format } : { type: 'string' }
      case ts.SyntaxKind.BooleanKeyword:
        return { type: 'boolean' }
      case ts.SyntaxKind.NumberKeyword:
        if (format === 'double' || format === 'float') return { type: 'number', format }
        return format === '' ? { type: 'integer' } : { type: 'integer', format }
      case ts.SyntaxKind.AnyKeyword:
      case ts.SyntaxKind.UnknownKeyword:
      case ts.SyntaxKind.ObjectKeyword:
        return { type: 'object' }
    }
    if (ts.isLiteralTypeNode(node)) return { type: 'string' }
    if (ts.isUnionTypeNode(node)) {
      const kinds = node.types.map((t) => t.kind).sort()
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
        this.out.set(INT_OR_STRING, INT_OR_STRING_SCHEMA)
        return { $ref: `#/definitions/${INT_OR_STRING}` }
      }
      throw new Error(`${decl.name}: unsupported union ${node.getText(decl.source)}`)
    }
    if (ts.isArrayTypeNode(node)) return { type: 'array', items: this.typeSchema(decl, node.elementType, format) }
    if (ts.isTypeReferenceNode(node)) {
      const name = node.typeName.getText(decl.source)
      if (name === 'Array' && node.typeArguments?.length === 1) {
        return { type: 'array', items: this.typeSchema(decl, node.typeArguments[0]!, format) }
      }
      return { $ref: `#/definitions/${this.refTo(decl, name)}` }
    }
    if (ts.isTypeLiteralNode(node)) {
      const index = node.members.find(ts.isIndexSignatureDeclaration)
      if (index !== undefined && node.members.length === 1) {
        return { type: 'object', additionalProperties: this.typeSchema(decl, index.type, format) }
      }
    }
    throw new Error(`${decl.name}: unsupported type ${node.getText(decl.source)}`)
  }
}

// IntOrString is written inline (`number | string`) in kubernetes-types; it gets the
// definition kube-apiserver gives it.
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString'
const INT_OR_STRING_SCHEMA: Schema = {
  description:
    'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  type: 'string',
  format: 'int-or-string',
}

function roots(): string[] {
  const names = new Set<string>()
  for (const r of RESOURCES) {
    const pkg = packageOf(`${r.group === '' ? 'core' : r.group.split('.')[0]}/${r.version}`)
    names.add(`${pkg}.${r.kind}`)
    names.add(`${pkg}.${r.kind}List`)
  }
  // Subresource bodies (scale, binding, eviction) and what every path returns or takes.
  for (const n of ['io.k8s.api.autoscaling.v1.Scale', 'io.k8s.api.core.v1.Binding', 'io.k8s.api.policy.v1.Eviction']) names.add(n)
  for (const n of ['Status', 'DeleteOptions', 'WatchEvent', 'Patch', 'APIResourceList', 'APIGroup', 'APIGroupList', 'APIVersions']) {
    names.add(`io.k8s.apimachinery.pkg.apis.meta.v1.${n}`)
  }
  names.add('io.k8s.apimachinery.pkg.version.Info')
  return [...names]
}

function main(argv: string[]): void {
  const at = argv.indexOf('--types')
  const fetched = at < 0 ? fetchTypes() : { dir: argv[at + 1]!, cleanup: () => {} }
  try {
    const decls = loadDeclarations(fetched.dir)
    const gen = new Generator(decls)
    for (const r of roots()) gen.require(r)
    gen.run()
    const version = (JSON.parse(readFileSync(join(fetched.dir, 'package.json'), 'utf8')) as { version: string }).version
    const clientVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@kubernetes/client-node/package.json'), 'utf8')) as { version: string }).version
    writeFileSync(OUT, render(gen.out, version, clientVersion))
    console.log(`wrote ${relative(ROOT, OUT)}: ${gen.out.size} definitions`)
  } finally {
    fetched.cleanup()
  }
}

function render(defs: Map<string, Schema>, typesVersion: string, clientVersion: string): string {
  const names = [...defs.keys()].sort()
  const lines = names.map((n) => `  ${JSON.stringify(n)}:\n    ${JSON.stringify(JSON.stringify(defs.get(n)))},`)
  return [
    '// Generated by scripts/gen-openapi.ts from kubernetes-types ' + typesVersion + ' and',
    '// @kubernetes/client-node ' + clientVersion + ' (formats). Do not edit; run the script again.',
    '// Each value is one OpenAPI v2 definition as JSON text, parsed when first needed.',
    '',
    `export const DEFINITIONS_SOURCE = ${JSON.stringify(`kubernetes-types@${typesVersion}`)}`,
    '',
    'export const DEFINITIONS: Readonly<Record<string, string>> = {',
    ...lines,
    '}',
    '',
  ].join('\n')
}

main(process.argv.slice(2))
