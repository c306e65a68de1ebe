// `raftplane down`, `raftplane kill <part>` and `raftplane start <part>`: ask the
// `raftplane up` running from a data dir (through DATA/up.sock, ../up-control.ts) to
// stop the whole cluster, to SIGKILL one part (master-N or node-N: a failover demo;
// up does not restart it by itself), or to start a killed part again with the same
// arguments.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Command } from 'commander'
import { controlSocket, type ControlRequest, sendControl } from '../up-control.js'

async function ask(command: string, data: string, req: ControlRequest): Promise<boolean> {
  const dataDir = resolve(data)
  let reply
  try {
    reply = await sendControl(dataDir, req)
  } catch (err) {
    console.error(`raftplane ${command}: ${(err as Error).message}`)
    process.exitCode = 1
    return false
  }
  if (reply === undefined) {
    console.error(`raftplane ${command}: no cluster is running from ${dataDir}; \`raftplane up --data ${data}\` starts it`)
    process.exitCode = 1
    return false
  }
  if (!reply.ok) {
    console.error(`raftplane ${command}: ${reply.message}`)
    process.exitCode = 1
    return false
  }
  if (req.op !== 'down') console.log(reply.message)
  return true
}

export function registerControl(program: Command): void {
  program
    .command('down')
    .description('stop the cluster `raftplane up` runs from a data dir (nodes, then masters), and wait until it has')
    .option('--data <dir>', "the cluster's data dir", './data')
    .action(async (f: { data: string }) => {
      if (!(await ask('down', f.data, { op: 'down' }))) return
      // up removes its socket once every part has exited.
      const sock = controlSocket(resolve(f.data))
      for (let i = 0; i < 600 && existsSync(sock); i++) await sleep(100)
      if (existsSync(sock)) {
        console.error(`raftplane down: the cluster in ${resolve(f.data)} is still stopping after 60 s`)
        process.exitCode = 1
        return
      }
      console.log('cluster stopped')
    })
  program
    .command('kill <part>')
    .description('SIGKILL one part (master-N, node-N) of the cluster `raftplane up` runs; it stays down until `raftplane start`')
    .option('--data <dir>', "the cluster's data dir", './data')
    .action(async (part: string, f: { data: string }) => {
      await ask('kill', f.data, { op: 'kill', part })
    })
  program
    .command('start <part>')
    .description('start a killed part of the cluster `raftplane up` runs again, with the same arguments')
    .option('--data <dir>', "the cluster's data dir", './data')
    .action(async (part: string, f: { data: string }) => {
      await ask('start', f.data, { op: 'start', part })
    })
}
