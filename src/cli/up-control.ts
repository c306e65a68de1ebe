// How `raftplane down`, `kill` and `start` reach a running `raftplane up`: a unix
// socket at DATA/up.sock, one JSON line each way. `up` owns its children, so only it
// can start a part again with the same arguments and stop everything in order; the
// socket also tells a second `up` on the same data dir that one is already running.
import { existsSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server } from 'node:net'
import { join } from 'node:path'

/** ping: is an `up` running here (and its pid). */
export type ControlOp = 'ping' | 'down' | 'kill' | 'start'

export interface ControlRequest {
  op: ControlOp
  part?: string
}

export interface ControlReply {
  ok: boolean
  message: string
  pid?: number
}

export function controlSocket(dataDir: string): string {
  return join(dataDir, 'up.sock')
}

/** Asks the `up` running from `dataDir`; undefined when none is running there. */
export function sendControl(dataDir: string, req: ControlRequest, timeoutMs = 10_000): Promise<ControlReply | undefined> {
  const path = controlSocket(dataDir)
  if (!existsSync(path)) return Promise.resolve(undefined)
  return new Promise((resolve, reject) => {
    const sock = createConnection(path)
    let buf = ''
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`raftplane up (${path}) did not answer within ${timeoutMs / 1000} s`))
    }, timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'))
    sock.on('data', (d: string) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      sock.end()
      try {
        resolve(JSON.parse(buf.slice(0, nl)) as ControlReply)
      } catch (err) {
        reject(err as Error)
      }
    })
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      // A socket file left by an `up` that was killed: nobody is running.
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(undefined)
      else reject(err)
    })
  })
}

/** Serves control requests for a running `up`; a stale socket file from a killed one is replaced. */
export async function serveControl(dataDir: string, handle: (req: ControlRequest) => Promise<ControlReply>): Promise<{ close(): void }> {
  const path = controlSocket(dataDir)
  if (existsSync(path)) unlinkSync(path)
  const server: Server = createServer((sock) => {
    let buf = ''
    sock.setEncoding('utf8')
    sock.on('error', () => undefined)
    sock.on('data', (d: string) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      let req: ControlRequest
      try {
        req = JSON.parse(buf.slice(0, nl)) as ControlRequest
      } catch {
        sock.end(JSON.stringify({ ok: false, message: 'not a JSON request' }) + '\n')
        return
      }
      void handle(req).then(
        (reply) => sock.end(JSON.stringify(reply) + '\n'),
        (err: unknown) => sock.end(JSON.stringify({ ok: false, message: err instanceof Error ? err.message : String(err) }) + '\n'),
      )
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
  return {
    close: () => {
      server.close()
      try {
        unlinkSync(path)
      } catch {
        // already gone
      }
    },
  }
}
