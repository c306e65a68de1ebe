// Quantities: parsing, canonical String() forms, comparisons and arithmetic, with
// cases from apimachinery's quantity tests.
import t from 'tap'
import { canonicalQuantity, parseQuantity, Quantity, QuantityError, tryParseQuantity } from '../../src/api/quantity.js'

const FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"

t.test('canonical forms', async (t) => {
  const cases: [string | number, string][] = [
    ['0', '0'],
    ['1', '1'],
    ['100m', '100m'],
    ['0.1', '100m'],
    ['.5', '500m'],
    ['0.5', '500m'],
    ['1.0', '1'],
    ['1.5', '1500m'],
    ['1000', '1k'],
    ['1000m', '1'],
    ['2048', '2048'],
    ['1M', '1M'],
    ['1000k', '1M'],
    ['1e3', '1e3'],
    ['12e6', '12e6'],
    ['10.5e3', '10500'],
    ['1Ki', '1Ki'],
    ['1024Ki', '1Mi'],
    ['1Gi', '1Gi'],
    ['1.5Gi', '1536Mi'],
    ['1000Mi', '1000Mi'],
    ['100Mi', '100Mi'],
    ['0.5Ki', '512'],
    ['1n', '1n'],
    ['1.5n', '2n'],
    ['0.0000000001', '1n'],
    ['1u', '1u'],
    ['-1', '-1'],
    ['-1.5', '-1500m'],
    ['+1', '+1'],
    ['01', '01'],
    ['0Ki', '0'],
    ['1E', '1E'],
    ['10Ei', '9223372036854775807'],
    [0.5, '500m'],
    [3, '3'],
  ]
  for (const [input, want] of cases) t.equal(parseQuantity(input).toString(), want, String(input))
})

t.test('formats: binary values below 1024 or with fractions print in decimal', async (t) => {
  t.equal(parseQuantity('1Ki').format, 'BinarySI')
  t.equal(parseQuantity('1e3').format, 'DecimalExponent')
  t.equal(parseQuantity('0.5Ki').format, 'BinarySI')
  t.equal(Quantity.fromValue(512, 'BinarySI').toString(), '512')
  t.equal(Quantity.fromValue(1536, 'BinarySI').toString(), '1536')
  t.equal(Quantity.fromValue(2048, 'BinarySI').toString(), '2Ki')
  t.equal(Quantity.fromMilli(1500, 'BinarySI').toString(), '1500m')
  t.equal(Quantity.fromValue(1500, 'DecimalExponent').toString(), '1500')
  t.equal(Quantity.fromValue(15000, 'DecimalExponent').toString(), '15e3')
})

t.test('parse errors carry Kubernetes messages', async (t) => {
  const bad: [string, string][] = [
    ['', FORMAT_WRONG],
    ['abc', FORMAT_WRONG],
    ['1Q', FORMAT_WRONG],
    ['1.2.3', FORMAT_WRONG],
    ['1 Gi', FORMAT_WRONG],
    ['1ei', "unable to parse quantity's suffix"],
    ['1Mii', "unable to parse quantity's suffix"],
    ['1e', "unable to parse quantity's suffix"],
  ]
  for (const [input, msg] of bad) t.throws(() => parseQuantity(input), new QuantityError(msg), JSON.stringify(input))
  t.equal(tryParseQuantity('nope'), undefined)
  t.equal(tryParseQuantity({}), undefined)
  t.equal(canonicalQuantity('0.25'), '250m')
})

t.test('values: MilliValue and Value round away from zero', async (t) => {
  t.equal(parseQuantity('1').milliValue(), 1000)
  t.equal(parseQuantity('100m').milliValue(), 100)
  t.equal(parseQuantity('1n').milliValue(), 1)
  t.equal(parseQuantity('-1n').milliValue(), -1)
  t.equal(parseQuantity('1.5').value(), 2)
  t.equal(parseQuantity('1Gi').value(), 1073741824)
  t.equal(parseQuantity('500Mi').value(), 524288000)
  t.equal(parseQuantity('250m').toNumber(), 0.25)
})

t.test('comparison and arithmetic', async (t) => {
  t.equal(parseQuantity('1').cmp(parseQuantity('1000m')), 0)
  t.equal(parseQuantity('1Gi').cmp(parseQuantity('1G')), 1)
  t.equal(parseQuantity('100m').cmp(parseQuantity('0.2')), -1)
  t.ok(parseQuantity('1k').equal(parseQuantity('1000')))
  t.equal(parseQuantity('1').add(parseQuantity('500m')).toString(), '1500m')
  t.equal(parseQuantity('1Gi').add(parseQuantity('512Mi')).toString(), '1536Mi')
  t.equal(parseQuantity('0').add(parseQuantity('1Ki')).toString(), '1Ki', 'a zero quantity takes the other format')
  t.equal(parseQuantity('1Gi').sub(parseQuantity('1Gi')).toString(), '0')
  t.equal(parseQuantity('2').sub(parseQuantity('3')).toString(), '-1')
  t.equal(parseQuantity('5').neg().toString(), '-5')
  t.equal(parseQuantity('1u').roundUp(-3).toString(), '1m')
  t.equal(parseQuantity('1500u').roundUp(-3).toString(), '2m')
  t.equal(parseQuantity('100m').roundUp(-3).toString(), '100m')
  t.equal(parseQuantity('1.5Gi').roundUp(-3).toString(), '1536Mi')
  t.equal(JSON.stringify({ cpu: parseQuantity('0.5') }), '{"cpu":"500m"}')
})
