// What the kubelet tells about the machine it runs on (nodeInfo, addresses and the
// capacity it measures when no flag says otherwise), read from the host; and the
// stand-in facts of a hollow node, derived from its name so they stay the same
// across restarts.
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync, statfsSync } from 'node:fs'
import { arch, cpus, hostname, networkInterfaces, release, totalmem, type } from 'node:os'
import { KUBE_VERSION } from '../api/version.js'

/** The Kubernetes version this kubelet speaks (the API server's). */
export const KUBELET_VERSION = KUBE_VERSION.gitVersion

export interface MachineFacts {
  machineID: string
  systemUUID: string
  bootID: string
  kernelVersion: string
  osImage: string
  /** GOARCH spelling: amd64, arm64, … */
  architecture: string
}

export interface HostResources {
  cpus: number
  memoryBytes: number
  ephemeralStorageBytes: number
}

/** Node's process.arch in Go's GOARCH spelling (the kubernetes.io/arch label). */
export function goArch(a: string = arch()): string {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64' }
  return map[a] ?? a
}

function readTrimmed(path: string): string | undefined {
  try {
    const s = readFileSync(path, 'utf8').trim()
    return s === '' ? undefined : s
  } catch {
    return undefined
  }
}

function osImage(): string {
  const text = readTrimmed('/etc/os-release')
  const m = text === undefined ? null : /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text)
  return m?.[1] ?? type()
}

function uuidFrom(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

export function hostFacts(): MachineFacts {
  const machineID = readTrimmed('/etc/machine-id') ?? createHash('md5').update(hostname()).digest('hex')
  return {
    machineID,
    // product_uuid is readable by root only; the machine id stands in, as for many VMs.
    systemUUID: readTrimmed('/sys/class/dmi/id/product_uuid')?.toLowerCase() ?? uuidFrom(machineID),
    bootID: readTrimmed('/proc/sys/kernel/random/boot_id') ?? randomUUID(),
    kernelVersion: release(),
    osImage: osImage(),
    architecture: goArch(),
  }
}

/**
 * A hollow node's facts: ids from its name (a restarted hollow kubelet is the same
 * machine, not a rebooted one, so even the boot id stays), the host's kernel and OS.
 */
export function hollowFacts(nodeName: string): MachineFacts {
  const id = createHash('md5').update(`hollow-node/${nodeName}`).digest('hex')
  return {
    machineID: id,
    systemUUID: uuidFrom(id),
    bootID: uuidFrom(createHash('md5').update(`hollow-boot/${nodeName}`).digest('hex')),
    kernelVersion: release(),
    osImage: osImage(),
    architecture: goArch(),
  }
}

export function hostResources(rootDir = '/'): HostResources {
  let ephemeralStorageBytes = 0
  try {
    const s = statfsSync(rootDir)
    ephemeralStorageBytes = s.blocks * s.bsize
  } catch {
    // no statfs here: report no local storage rather than a guess
  }
  return { cpus: cpus().length, memoryBytes: totalmem(), ephemeralStorageBytes }
}

/** The first non-internal IPv4 address of the host, else 127.0.0.1. */
export function hostIPv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return '127.0.0.1'
}

export function hostName(): string {
  return hostname().toLowerCase()
}
