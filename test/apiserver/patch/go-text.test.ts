// Go's wording and encodings that reach clients: encoding/json syntax errors, fmt's %v,
// HTML-safe JSON strings.
import t from 'tap'
import { formatGoValue, goJsonMarshal, goJsonString, goJsonSyntaxError, goTypeName, parseJson } from '../../../src/apiserver/patch/go-text.js'

t.test('encoding/json syntax errors', async (t) => {
  const cases: [string, string][] = [
    ['', 'unexpected end of JSON input'],
    ['{"a":', 'unexpected end of JSON input'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{a}', "invalid character 'a' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b"}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{} {}', "invalid character '{' after top-level value"],
    ['tru', 'unexpected end of JSON input'],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['-a', "invalid character 'a' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ["'", "invalid character '\\'' looking for beginning of value"],
  ]
  for (const [input, message] of cases) t.equal(goJsonSyntaxError(input), message, JSON.stringify(input))
  t.strictSame(parseJson('{"a":[1,2]}'), { ok: true, value: { a: [1, 2] } })
  t.strictSame(parseJson(new TextEncoder().encode('[1,')), { ok: false, message: 'unexpected end of JSON input' })
})

t.test("fmt's %v and reflect's type names of decoded JSON", async (t) => {
  t.equal(formatGoValue({ name: 'web', image: 'nginx', ports: [80, 443], x: null, ok: true, f: 1.5 }), 'map[f:1.5 image:nginx name:web ok:true ports:[80 443] x:<nil>]')
  t.equal(formatGoValue(1e21), '1e+21')
  t.equal(formatGoValue(0.00001), '1e-05')
  t.equal(goTypeName('s'), 'string')
  t.equal(goTypeName(1), 'int64')
  t.equal(goTypeName(1.5), 'float64')
  t.equal(goTypeName({}), 'map[string]interface {}')
  t.equal(goTypeName([]), '[]interface {}')
  t.equal(goTypeName(null), '%!s(<nil>)')
})

t.test('encoding/json output: sorted keys, HTML-safe strings', async (t) => {
  t.equal(goJsonString('<a&b>'), '"\\u003ca\\u0026b\\u003e"')
  t.equal(goJsonMarshal({ b: 1, a: ['x', null, true], c: { z: '<' } }), '{"a":["x",null,true],"b":1,"c":{"z":"\\u003c"}}')
})
