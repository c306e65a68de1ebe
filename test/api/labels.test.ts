// Label selectors: the string syntax, Kubernetes' parse errors word for word,
// LabelSelector objects and matching. Cases follow apimachinery's labels tests.
import t from 'tap'
import {
  formatLabels,
  formatLabelSelector,
  labelSelectorMatches,
  LabelSelectorError,
  parseSelector,
  selectorFromLabelSelector,
  selectorFromSet,
  selectorToString,
} from '../../src/api/labels.js'

const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
const NAME_PART_ERR =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

function parseError(s: string): string {
  try {
    parseSelector(s)
  } catch (e) {
    if (e instanceof LabelSelectorError) return e.message
    throw e
  }
  return 'no error'
}

t.test('valid selectors parse and print back in canonical (key-sorted) form', async (t) => {
  const cases: [string, string][] = [
    ['', ''],
    ['x=a,y=b,z=c', 'x=a,y=b,z=c'],
    ['z=c,x=a', 'x=a,z=c'],
    ['x!=a,y=b', 'x!=a,y=b'],
    ['x==a', 'x==a'],
    ['x=', 'x='],
    ['x= ', 'x='],
    ['x=,z= ', 'x=,z='],
    ['w in (b,a,c)', 'w in (a,b,c)'],
    ['x notin (a)', 'x notin (a)'],
    ['x in (a,a)', 'x in (a)'],
    ['x in ()', 'x in ()'],
    ['x in (a,)', 'x in (,a)'],
    ['x', 'x'],
    ['!x', '!x'],
    ['!x,y', '!x,y'],
    ['x>1', 'x>1'],
    ['x<1', 'x<1'],
    ['  x  =  a  ,  y  ', 'x=a,y'],
    ['example.com/app=web', 'example.com/app=web'],
    ['in=notin', 'in=notin'],
    ['x in (in,notin)', 'x in (in,notin)'],
  ]
  for (const [input, want] of cases) t.equal(parseSelector(input).toString(), want, JSON.stringify(input))
})

t.test('bad selectors fail with kube-apiserver messages', async (t) => {
  t.equal(parseError('a b'), 'unable to parse requirement: found \'b\', expected: in, notin, =, ==, !=, gt, lt')
  t.equal(parseError('x=a,'), "found '', expected: identifier after ','")
  t.equal(parseError('x in (a'), "unable to parse requirement: found '', expected: ',' or ')'")
  t.equal(parseError('x in a'), "unable to parse requirement: found 'a' expected: '('")
  t.equal(parseError('=a'), "found '=', expected: !, identifier, or 'end of string'")
  t.equal(parseError('x=a b'), "found 'b', expected: ',' or 'end of string'")
  t.equal(parseError('!x=a'), "found '=', expected: ',' or 'end of string'")
  t.equal(parseError('x=!'), "unable to parse requirement: found '!', expected: identifier")
  t.equal(parseError('x>=1'), "unable to parse requirement: found '=', expected: identifier")
  t.equal(parseError('x&y'), `unable to parse requirement: <nil>: Invalid value: "x&y": ${NAME_PART_ERR}`)
  t.equal(parseError('x=a||y=b'), `unable to parse requirement: values[0][x]: Invalid value: "a||y": ${LABEL_VALUE_ERR}`)
  t.equal(parseError('x>a'), `unable to parse requirement: values[0]: Invalid value: "a": for 'Gt', 'Lt' operators, the value must be an integer`)
  t.equal(parseError('x,'), "found '', expected: identifier after ','")
  t.match(parseError('x$=1'), /^unable to parse requirement: <nil>: Invalid value: "x\$"/)
})

t.test('matching: equality, sets, existence and numeric comparisons', async (t) => {
  const labels = { app: 'web', tier: 'front', n: '5' }
  const yes = ['app=web', 'app==web', 'tier!=db', 'app in (web,api)', 'app notin (db)', 'app', '!missing', 'missing!=x', 'missing notin (x)', 'n>4', 'n<6', '']
  const no = ['app=api', 'app!=web', 'app in (api)', 'app notin (web,api)', 'missing', '!app', 'missing=x', 'missing in (x)', 'n>5', 'n<5', 'app>1', 'app=web,tier=back']
  for (const s of yes) t.ok(parseSelector(s).matches(labels), s)
  for (const s of no) t.notOk(parseSelector(s).matches(labels), s)
  t.ok(parseSelector('x in ()').matches({ x: '' }), 'empty value in a set')
  t.notOk(parseSelector('app=web').matches(undefined), 'no labels at all')
})

t.test('LabelSelector objects: matchLabels and matchExpressions', async (t) => {
  const sel = selectorFromLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod', 'canary'] },
      { key: 'legacy', operator: 'DoesNotExist' },
      { key: 'team', operator: 'Exists' },
      { key: 'zone', operator: 'NotIn', values: ['b'] },
    ],
  })
  t.equal(sel.toString(), 'app=web,env in (canary,prod),!legacy,team,zone notin (b)')
  t.ok(sel.matches({ app: 'web', env: 'prod', team: 'x' }))
  t.notOk(sel.matches({ app: 'web', env: 'dev', team: 'x' }))
  t.notOk(sel.matches({ app: 'web', env: 'prod', team: 'x', legacy: '' }))
  t.notOk(sel.matches({ app: 'web', env: 'prod', team: 'x', zone: 'b' }))

  t.ok(selectorFromLabelSelector({}).matches({ any: 'thing' }), 'empty selector selects everything')
  t.ok(selectorFromLabelSelector({}).empty())
  t.notOk(selectorFromLabelSelector(null).matches({}), 'a nil selector selects nothing')
  t.notOk(selectorFromLabelSelector(undefined).empty())
  t.throws(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }), { message: '"Foo" is not a valid label selector operator' })
  t.throws(() => selectorFromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), {
    message: "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
  })
  t.throws(() => selectorFromLabelSelector({ matchLabels: { 'bad key': 'v' } }), { message: `key: Invalid value: "bad key": ${NAME_PART_ERR}` })
  t.notOk(labelSelectorMatches({ matchExpressions: [{ key: 'a', operator: 'Foo' }] }, { a: 'b' }), 'invalid selectors match nothing')
  t.ok(labelSelectorMatches({ matchLabels: { a: 'b' } }, { a: 'b', c: 'd' }))
})

t.test('string forms: selectorToString, FormatLabelSelector, FormatLabels', async (t) => {
  t.equal(selectorToString({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2')
  t.equal(selectorToString(parseSelector('b=2,a=1')), 'a=1,b=2')
  t.equal(selectorToString(null), '')
  t.equal(selectorFromSet({ z: '1', a: '2' }).toString(), 'a=2,z=1')
  t.equal(formatLabelSelector({}), '<none>')
  t.equal(formatLabelSelector({ matchLabels: { app: 'web' } }), 'app=web')
  t.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Bad' }] }), '<error>')
  t.equal(formatLabels({ b: '1', a: '2' }), 'a=2,b=1')
  t.equal(formatLabels({}), '<none>')
  t.equal(formatLabels(undefined), '<none>')
  t.equal(parseSelector('app=web,tier in (a)').requiresExactMatch('tier'), 'a')
  t.equal(parseSelector('app!=web').requiresExactMatch('app'), undefined)
})
