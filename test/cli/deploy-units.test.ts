// The example systemd units in deploy/ are valid for systemd (systemd-analyze verify,
// with the CLI path pointed at a stand-in), and each runs a raftplane command that
// exists, with options that command takes.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { RAFTPLANE } from '../apiserver/e2e/helpers/cluster.js'

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url))
const units = readdirSync(DEPLOY).filter((f) => f.endsWith('.service'))
const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0

t.test('deploy/ has a unit for the master, the node and the load balancer', async (t) => {
  t.same(units.sort(), ['raftplane-lb.service', 'raftplane-master.service', 'raftplane-node.service'])
})

for (const unit of units) {
  t.test(unit, async (t) => {
    const text = readFileSync(join(DEPLOY, unit), 'utf8')
    const exec = /^ExecStart=\/usr\/local\/bin\/raftplane (.*)$/m.exec(text)
    t.ok(exec, 'ExecStart runs /usr/local/bin/raftplane')
    const args = exec![1]!.split(/\s+/)
    // Each option the unit passes is one its command declares.
    const help = spawnSync(RAFTPLANE[0]!, [...RAFTPLANE.slice(1), args[0]!, '--help'], { encoding: 'utf8', timeout: 60_000 })
    t.equal(help.status, 0, help.stderr)
    for (const flag of args.filter((a) => a.startsWith('--'))) t.match(help.stdout, new RegExp(`${flag}\\b`), `raftplane ${args[0]} takes ${flag}`)
    if (!hasSystemd) return
    const dir = t.testdir({})
    const shim = join(dir, 'raftplane')
    writeFileSync(shim, '#!/bin/sh\nexit 0\n')
    chmodSync(shim, 0o755)
    writeFileSync(join(dir, unit), text.replaceAll('/usr/local/bin/raftplane', shim))
    let out: string
    try {
      out = execFileSync('systemd-analyze', ['verify', '--man=no', join(dir, unit)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (err) {
      out = String((err as { stderr?: string }).stderr ?? err)
      t.fail(`systemd-analyze verify: ${out}`)
    }
    t.pass(`systemd-analyze verify ${unit}${out ? `: ${out.trim()}` : ''}`)
  })
}
