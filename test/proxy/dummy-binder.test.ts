// The dummy address binder: the iproute2 commands it issues (against a recorded
// `ip`), adoption of its own leftovers, and, where this host allows, the real thing:
// /32s added to and removed from an interface (a dummy one when the kernel has the
// driver; else `lo`, which the binder must leave as it found it).
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { createAddressBinder } from '../../src/proxy/create-binder.js'
import { DummyBinder, type IpCommand, runIp } from '../../src/proxy/dummy-binder.js'

/** A fake `ip`: records each call and keeps the device's addresses. */
function fakeIp(opts: { exists?: 'dummy' | 'other'; addresses?: string[]; failAdd?: string } = {}) {
  const calls: string[] = []
  let exists = opts.exists
  const addrs = new Set(opts.addresses ?? [])
  const ip: IpCommand = async (args, stdin) => {
    const line = args.join(' ')
    calls.push(stdin === undefined || stdin === '' ? line : `${line} <<${stdin.trim().split('\n').join('; ')}`)
    if (line.startsWith('-o -d link show')) {
      if (exists === undefined) throw new Error('Device does not exist')
      return `5: dev: <BROADCAST,NOARP> mtu 1500 ${exists === 'dummy' ? 'dummy addrgenmode eui64' : 'loopback'}`
    }
    if (line.startsWith('link add')) exists = 'dummy'
    if (line.startsWith('-o -4 addr show')) return [...addrs].map((a) => `5: dev    inet ${a}/32 scope global dev\\       valid_lft forever`).join('\n')
    if (line === '-force -batch -') {
      let failed = false
      for (const cmd of stdin!.trim().split('\n')) {
        const [, verb, cidr] = cmd.split(' ')
        const a = cidr!.split('/')[0]!
        if (verb === 'add' && a === opts.failAdd) failed = true
        else if (verb === 'add') addrs.add(a)
        else addrs.delete(a)
      }
      if (failed) throw new Error('RTNETLINK answers: Permission denied')
    }
    return ''
  }
  return { ip, calls, addrs }
}

t.test('creates its interface, adds and removes /32s in one batch, deletes the interface it created', async (t) => {
  const f = fakeIp()
  const b = new DummyBinder({ device: 'rp-test0', ip: f.ip, localAddresses: () => new Set(['192.168.1.10']) })
  await b.open()
  await b.sync(new Set(['10.96.0.10', '10.96.0.20', '192.168.1.10']))
  t.same([...f.addrs].sort(), ['10.96.0.10', '10.96.0.20'], 'an address local elsewhere (a node IP) is not added')
  t.equal(b.localAddress('10.96.0.20'), '10.96.0.20', 'the real cluster IP is served')
  await b.sync(new Set(['10.96.0.10']))
  t.same([...f.addrs], ['10.96.0.10'])
  await b.close()
  t.same(f.calls, [
    '-o -d link show dev rp-test0',
    'link add rp-test0 type dummy',
    'link set dev rp-test0 up',
    '-force -batch - <<address add 10.96.0.10/32 dev rp-test0; address add 10.96.0.20/32 dev rp-test0',
    '-o -4 addr show dev rp-test0',
    '-force -batch - <<address del 10.96.0.20/32 dev rp-test0',
    '-o -4 addr show dev rp-test0',
    'link del dev rp-test0',
  ])
})

t.test('adopts the leftovers on its own dummy interface; leaves a foreign interface as it found it', async (t) => {
  const mine = fakeIp({ exists: 'dummy', addresses: ['10.96.0.99'] })
  const b = new DummyBinder({ device: 'rp-test0', ip: mine.ip, localAddresses: () => new Set(['10.96.0.99']) })
  await b.sync(new Set(['10.96.0.10']))
  t.same([...mine.addrs], ['10.96.0.10'], 'the stale address of a dead proxy is removed')
  await b.close()
  t.same([...mine.addrs], [], 'an interface it did not create keeps existing, without our addresses')
  t.notOk(mine.calls.some((c) => c.startsWith('link del')))

  const lo = fakeIp({ exists: 'other', addresses: ['10.96.0.50'] })
  const l = new DummyBinder({ device: 'lo', ip: lo.ip, localAddresses: () => new Set(['10.96.0.50']) })
  await l.sync(new Set(['10.96.0.11']))
  await l.close()
  t.same([...lo.addrs], ['10.96.0.50'], 'what was there before is not ours')
})

t.test('a failed add is reported; what did get added is still tracked', async (t) => {
  const f = fakeIp({ failAdd: '10.96.0.2' })
  const b = new DummyBinder({ device: 'rp-test0', ip: f.ip, localAddresses: () => new Set() })
  await t.rejects(b.sync(new Set(['10.96.0.1', '10.96.0.2'])), /Permission denied/)
  await b.close()
  t.equal(f.calls.at(-1), 'link del dev rp-test0')
})

t.test('bad interface names are refused before any command runs', async (t) => {
  t.throws(() => new DummyBinder({ device: 'a-name-that-is-too-long' }))
  t.throws(() => new DummyBinder({ device: 'x; rm -rf /' }))
})

const canRunIp = (() => {
  try {
    execFileSync('ip', ['-o', 'link', 'show', 'dev', 'lo'], { stdio: 'ignore' })
    return process.getuid?.() === 0
  } catch {
    return false
  }
})()

t.test('on this host: /32s come and go for real', { skip: canRunIp ? false : 'needs root and iproute2' }, async (t) => {
  const device = `rpt${process.pid % 100000}`
  const real = new DummyBinder({ device })
  let dev = device
  let binder = real
  try {
    await real.open()
  } catch (err) {
    t.comment(`no dummy interfaces here (${(err as Error).message}); testing on lo`)
    dev = 'lo'
    binder = new DummyBinder({ device: 'lo' })
  }
  const a = `127.254.${(process.pid >> 8) & 255}.${process.pid & 255 || 1}`
  const has = async (): Promise<boolean> => (await runIp(['-o', '-4', 'addr', 'show', 'dev', dev])).includes(`inet ${a}/32`)
  t.teardown(() => binder.close())
  await binder.sync(new Set([a]))
  t.ok(await has(), `${a} added to ${dev}`)
  await binder.sync(new Set())
  t.notOk(await has(), 'and removed')
  await binder.sync(new Set([a]))
  await binder.close()
  t.notOk(await has(), 'close removes it')
  if (dev !== 'lo') t.rejects(runIp(['-o', 'link', 'show', 'dev', dev]), 'the interface it created is gone')
  else t.ok((await runIp(['-o', '-4', 'addr', 'show', 'dev', 'lo'])).includes('inet 127.0.0.1/8'), 'lo keeps its own address')
})

t.test('binder modes: loopback maps the service range; auto takes dummy where it can, else loopback', async (t) => {
  const b = await createAddressBinder({ mode: 'loopback' })
  t.equal(b.mode, 'loopback')
  t.equal(b.localAddress('10.96.3.4'), '127.96.3.4')
  t.equal(b.localAddress('8.8.8.8'), undefined, 'outside the service range and not local: cannot serve')
  t.equal(b.localAddress('127.0.0.1'), '127.0.0.1')
  t.equal((await createAddressBinder({ mode: 'loopback', serviceCidr: '10.0.0.0/16' })).localAddress('10.96.3.4'), undefined)
  await t.rejects(createAddressBinder({ mode: 'auto', device: 'rp-bad name' }), 'a bad interface name is a configuration error, not a fallback')
  if (!canRunIp) return
  const device = `rpa${process.pid % 100000}`
  const auto = await createAddressBinder({ mode: 'auto', device })
  t.teardown(() => auto.close())
  const dummyWorks = auto.mode === 'dummy'
  t.comment(`this host ${dummyWorks ? 'has' : 'has no'} dummy interfaces`)
  if (!dummyWorks) await t.rejects(createAddressBinder({ mode: 'dummy', device }), 'dummy mode asked for and unavailable: an error')
})
