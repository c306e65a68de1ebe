// A pod's effective requests and limits, as component-helpers' PodRequests/PodLimits
// compute them: the containers' sum, raised to what any init container needs while it
// runs (restartable "sidecar" init containers keep running beside the rest), plus the
// pod overhead when asked for (quota counts it, LimitRanger's Pod limits do not).
import { addInto, maxInto, parseResourceList, type ResourceList } from './resource-list.js'

type Json = Record<string, unknown>

function rec(v: unknown): Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
}

function recs(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(rec) : []
}

export function podSpec(pod: Json): Json {
  return rec(pod.spec)
}

export function containers(pod: Json): Json[] {
  return recs(podSpec(pod).containers)
}

export function initContainers(pod: Json): Json[] {
  return recs(podSpec(pod).initContainers)
}

/** A container's resources.requests or resources.limits object (created when `create`). */
export function resourceField(container: Json, which: 'requests' | 'limits', create = false): Json {
  if (create) {
    const res = (container.resources = rec(container.resources))
    return (res[which] = rec(res[which]))
  }
  return rec(rec(container.resources)[which])
}

export function containerList(container: Json, which: 'requests' | 'limits'): ResourceList {
  return parseResourceList(resourceField(container, which))
}

function aggregate(pod: Json, which: 'requests' | 'limits'): ResourceList {
  const total: ResourceList = new Map()
  for (const c of containers(pod)) addInto(total, containerList(c, which))
  const sidecars: ResourceList = new Map()
  const initPeak: ResourceList = new Map()
  for (const c of initContainers(pod)) {
    const own = containerList(c, which)
    let running: ResourceList
    if (c.restartPolicy === 'Always') {
      addInto(total, own)
      addInto(sidecars, own)
      running = new Map(sidecars)
    } else {
      running = new Map(own)
      addInto(running, sidecars)
    }
    maxInto(initPeak, running)
  }
  maxInto(total, initPeak)
  return total
}

export function podRequests(pod: Json, opts: { overhead: boolean }): ResourceList {
  const reqs = aggregate(pod, 'requests')
  if (opts.overhead) addInto(reqs, parseResourceList(podSpec(pod).overhead))
  return reqs
}

export function podLimits(pod: Json, opts: { overhead: boolean }): ResourceList {
  const limits = aggregate(pod, 'limits')
  if (opts.overhead) {
    // Overhead only raises a limit that exists: an unlimited resource stays unlimited.
    for (const [k, q] of parseResourceList(podSpec(pod).overhead)) {
      const prev = limits.get(k)
      if (prev !== undefined) limits.set(k, prev.add(q))
    }
  }
  return limits
}
