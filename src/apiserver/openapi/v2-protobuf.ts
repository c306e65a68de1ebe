// The Swagger 2.0 document in protobuf: gnostic's openapi.v2.Document messages, the only
// encoding client-go asks /openapi/v2 for (Accept:
// application/com.github.proto-openapi.spec.v2@v1.0+protobuf). kubectl 1.32 needs it
// where v3 does not serve: client-side schema validation of a `kind: List` manifest
// under --validate=strict, `explain --output=plaintext-openapiv2`, and as the fallback
// when /openapi/v3 fails.
//
// Written field by field from the JSON document with protobufjs' Writer. The field
// numbers are gnostic's (openapiv2/OpenAPIv2.proto); only the fields our document uses
// are written. Vendor extensions travel as YAML text (NamedAny.value.yaml): JSON is
// YAML, so each value is written as its JSON.
import protobuf from 'protobufjs'

type Json = Record<string, unknown>
type Writer = protobuf.Writer

const LEN = 2
const VARINT = 0

function str(w: Writer, field: number, value: unknown): void {
  if (typeof value === 'string' && value !== '') w.uint32((field << 3) | LEN).string(value)
}

function strs(w: Writer, field: number, values: unknown): void {
  if (Array.isArray(values)) for (const v of values) if (typeof v === 'string') w.uint32((field << 3) | LEN).string(v)
}

function bool(w: Writer, field: number, value: unknown): void {
  if (value === true) w.uint32((field << 3) | VARINT).bool(true)
}

function msg(w: Writer, field: number, body: (w: Writer) => void): void {
  w.uint32((field << 3) | LEN).fork()
  body(w)
  w.ldelim()
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** NamedAny entries for the `x-…` keys of an object. */
function vendorExtensions(w: Writer, field: number, obj: Json): void {
  for (const [name, value] of Object.entries(obj)) {
    if (!name.startsWith('x-')) continue
    msg(w, field, (w) => {
      str(w, 1, name)
      msg(w, 2, (w) => str(w, 2, JSON.stringify(value)))
    })
  }
}

// message Schema
function schema(w: Writer, s: Json): void {
  str(w, 1, s.$ref)
  str(w, 2, s.format)
  str(w, 4, s.description)
  bool(w, 16, s.uniqueItems)
  strs(w, 19, s.required)
  const ap = s.additionalProperties
  if (isObject(ap)) msg(w, 21, (w) => msg(w, 1, (w) => schema(w, ap)))
  else if (typeof ap === 'boolean') msg(w, 21, (w) => w.uint32((2 << 3) | VARINT).bool(ap))
  if (typeof s.type === 'string') msg(w, 22, (w) => str(w, 1, s.type))
  if (isObject(s.items)) {
    const items = s.items
    msg(w, 23, (w) => msg(w, 1, (w) => schema(w, items)))
  }
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) if (isObject(sub)) msg(w, 24, (w) => schema(w, sub))
  if (isObject(s.properties)) {
    const props = s.properties
    msg(w, 25, (w) => {
      for (const [name, p] of Object.entries(props)) if (isObject(p)) msg(w, 1, (w) => named(w, name, (w) => schema(w, p)))
    })
  }
  vendorExtensions(w, 31, s)
}

function named(w: Writer, name: string, value: (w: Writer) => void): void {
  str(w, 1, name)
  msg(w, 2, value)
}

// message ParametersItem { Parameter parameter = 1 }
function parameter(w: Writer, p: Json): void {
  msg(w, 1, (w) => {
    if (p.in === 'body') {
      msg(w, 1, (w) => {
        str(w, 1, p.description)
        str(w, 2, p.name)
        str(w, 3, p.in)
        bool(w, 4, p.required)
        if (isObject(p.schema)) {
          const s = p.schema
          msg(w, 5, (w) => schema(w, s))
        }
      })
      return
    }
    // NonBodyParameter: query_parameter_sub_schema = 3, path_parameter_sub_schema = 4;
    // the two messages number `type` and `unique_items` differently.
    const query = p.in === 'query'
    msg(w, 2, (w) =>
      msg(w, query ? 3 : 4, (w) => {
        bool(w, 1, p.required)
        str(w, 2, p.in)
        str(w, 3, p.description)
        str(w, 4, p.name)
        str(w, query ? 6 : 5, p.type)
        bool(w, query ? 20 : 19, p.uniqueItems)
      }),
    )
  })
}

// message Operation
function operation(w: Writer, op: Json): void {
  strs(w, 1, op.tags)
  str(w, 3, op.description)
  str(w, 5, op.operationId)
  strs(w, 6, op.produces)
  strs(w, 7, op.consumes)
  if (Array.isArray(op.parameters)) for (const p of op.parameters) if (isObject(p)) msg(w, 8, (w) => parameter(w, p))
  if (isObject(op.responses)) {
    const responses = op.responses
    msg(w, 9, (w) => {
      for (const [code, r] of Object.entries(responses)) {
        if (!isObject(r)) continue
        // NamedResponseValue { name, ResponseValue { Response { description, SchemaItem { Schema } } } }
        msg(w, 1, (w) =>
          named(w, code, (w) =>
            msg(w, 1, (w) => {
              str(w, 1, r.description)
              if (isObject(r.schema)) {
                const s = r.schema
                msg(w, 2, (w) => msg(w, 1, (w) => schema(w, s)))
              }
            }),
          ),
        )
      }
    })
  }
  strs(w, 10, op.schemes)
  vendorExtensions(w, 13, op)
}

const METHOD_FIELDS: Record<string, number> = { get: 2, put: 3, post: 4, delete: 5, options: 6, head: 7, patch: 8 }

// message PathItem
function pathItem(w: Writer, item: Json): void {
  for (const [method, field] of Object.entries(METHOD_FIELDS)) {
    const op = item[method]
    if (isObject(op)) msg(w, field, (w) => operation(w, op))
  }
  if (Array.isArray(item.parameters)) for (const p of item.parameters) if (isObject(p)) msg(w, 9, (w) => parameter(w, p))
  vendorExtensions(w, 10, item)
}

/** The Swagger 2.0 JSON document (v2.ts) as a gnostic openapi.v2.Document. */
export function encodeOpenApiV2(doc: Json): Buffer {
  const w = protobuf.Writer.create()
  str(w, 1, doc.swagger)
  if (isObject(doc.info)) {
    const info = doc.info
    msg(w, 2, (w) => {
      str(w, 1, info.title)
      str(w, 2, info.version)
    })
  }
  if (isObject(doc.paths)) {
    const paths = doc.paths
    msg(w, 8, (w) => {
      for (const [path, item] of Object.entries(paths)) if (isObject(item)) msg(w, 2, (w) => named(w, path, (w) => pathItem(w, item)))
    })
  }
  if (isObject(doc.definitions)) {
    const defs = doc.definitions
    msg(w, 9, (w) => {
      for (const [name, s] of Object.entries(defs)) if (isObject(s)) msg(w, 1, (w) => named(w, name, (w) => schema(w, s)))
    })
  }
  if (Array.isArray(doc.security)) {
    for (const req of doc.security) {
      if (!isObject(req)) continue
      // SecurityRequirement { NamedStringArray { name, StringArray { value } } }
      msg(w, 12, (w) => {
        for (const [name, scopes] of Object.entries(req)) msg(w, 1, (w) => named(w, name, (w) => strs(w, 1, scopes)))
      })
    }
  }
  if (isObject(doc.securityDefinitions)) {
    const defs = doc.securityDefinitions
    msg(w, 13, (w) => {
      for (const [name, d] of Object.entries(defs)) {
        if (!isObject(d) || d.type !== 'apiKey') continue
        // SecurityDefinitionsItem { ApiKeySecurity api_key_security = 2 }
        msg(w, 1, (w) =>
          named(w, name, (w) =>
            msg(w, 2, (w) => {
              str(w, 1, d.type)
              str(w, 2, d.name)
              str(w, 3, d.in)
              str(w, 4, d.description)
            }),
          ),
        )
      }
    })
  }
  return Buffer.from(w.finish())
}
