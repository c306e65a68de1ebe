// Which process holds a TCP port: "port 6443 is already in use" is only half an
// answer to a newcomer; the pid and command line of the holder is the other half.
// Linux keeps listening sockets in /proc/net/tcp and tcp6 (state 0A, LISTEN) with
// their inode, and each process's open sockets as /proc/<pid>/fd/* links to
// `socket:[inode]`. Sockets of other users' processes cannot be read without root:
// then, or without /proc, the answer is undefined and callers fall back to naming
// the `ss -ltnp` command that asks the kernel with more privilege.
import { readdir, readFile, readlink } from 'node:fs/promises'
import { createServer } from 'node:net'

export interface PortHolder {
  pid: number
  /** /proc/<pid>/comm: the executable's short name. */
  comm: string
  /** The command line, arguments joined by spaces and on one line (the comm alone for kernel threads). */
  cmdline: string
}

const LISTEN = '0A'

/** The inodes of the sockets listening on `port`, from one /proc/net/tcp* table. */
export function listeningInodes(table: string, port: number): string[] {
  const inodes: string[] = []
  for (const line of table.split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
    const f = line.trim().split(/\s+/)
    if (f.length < 10 || f[3] !== LISTEN) continue
    const local = f[1]!
    if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue
    if (f[9] !== '0') inodes.push(f[9]!)
  }
  return inodes
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return fallback
  }
}

/** The process listening on TCP `port` (any address), or undefined when /proc cannot tell. */
export async function findPortHolder(port: number): Promise<PortHolder | undefined> {
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const inode of listeningInodes(await readOr(table, ''), port)) inodes.add(inode)
  }
  if (inodes.size === 0) return undefined
  let pids: number[]
  try {
    pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map(Number).sort((a, b) => a - b)
  } catch {
    return undefined
  }
  for (const pid of pids) {
    let fds: string[]
    try {
      fds = await readdir(`/proc/${pid}/fd`)
    } catch {
      continue // another user's process, or gone
    }
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')
      const m = /^socket:\[(\d+)\]$/.exec(link)
      if (m === null || !inodes.has(m[1]!)) continue
      const comm = (await readOr(`/proc/${pid}/comm`, '')).trim()
      const args = (await readOr(`/proc/${pid}/cmdline`, '')).split('\0').filter(Boolean)
      return { pid, comm, cmdline: args.length > 0 ? args.join(' ').replace(/\s+/g, ' ') : comm }
    }
  }
  return undefined
}

/** Whether something listens on `host:port` already (we try to bind it and let go). */
export async function portInUse(host: string, port: number): Promise<boolean> {
  return new Promise((resolveUse) => {
    const s = createServer()
    s.once('error', (err: NodeJS.ErrnoException) => resolveUse(err.code === 'EADDRINUSE'))
    s.listen(port, host, () => s.close(() => resolveUse(false)))
  })
}

function shorten(s: string, max = 80): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}

/**
 * One line for a port found in use: `port P (what) is already in use by pid N
 * (command …); stop it or <fix>`, or, when the holder cannot be found, the `ss`
 * command that finds it.
 */
export async function portInUseMessage(port: number, what: string, fix: string): Promise<string> {
  const holder = await findPortHolder(port)
  if (holder !== undefined) return `port ${port} (${what}) is already in use by pid ${holder.pid} (${shorten(holder.cmdline)}); stop it or ${fix}`
  return `port ${port} (${what}) is already in use; stop what holds it (\`ss -ltnp 'sport = :${port}'\`) or ${fix}`
}
