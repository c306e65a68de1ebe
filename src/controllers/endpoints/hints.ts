// Topology hints on EndpointSlice endpoints for a Service's trafficDistribution
// (upstream trafficdist, as in 1.32): with PreferClose every ready endpoint is hinted
// for its own zone so kube-proxy keeps traffic in-zone; otherwise no endpoint carries
// hints. Slices the reconciler left alone are rewritten only when their hints are wrong.
import type { KubeObject } from '../../client/index.js'
import type { SliceEndpoint } from './slice-endpoints.js'

export const PREFER_CLOSE = 'PreferClose'

function endpointsOf(slice: KubeObject): SliceEndpoint[] {
  return Array.isArray(slice.endpoints) ? (slice.endpoints as SliceEndpoint[]) : []
}

function hintsRight(ep: SliceEndpoint, preferClose: boolean): boolean {
  if (!preferClose) return ep.hints === undefined || ep.hints === null
  if (ep.conditions?.ready !== true) return true
  const zones = ep.hints?.forZones ?? []
  if (ep.zone !== undefined) return zones.length === 1 && zones[0]?.name === ep.zone
  return zones.length === 0
}

function setHints(slice: KubeObject, preferClose: boolean): void {
  for (const ep of endpointsOf(slice)) {
    if (!preferClose) delete ep.hints
    else if (ep.conditions?.ready !== true) continue
    else if (ep.zone !== undefined) ep.hints = { forZones: [{ name: ep.zone }] }
    else delete ep.hints
  }
}

/**
 * Sets the hints of slices to create and update (both private copies), and moves
 * unchanged slices whose hints are wrong to the updates (as copies).
 */
export function reconcileHints(
  trafficDistribution: unknown,
  create: KubeObject[],
  update: KubeObject[],
  unchanged: readonly KubeObject[],
): { create: KubeObject[]; update: KubeObject[] } {
  const preferClose = trafficDistribution === PREFER_CLOSE
  const updates = [...update]
  for (const s of unchanged) if (!endpointsOf(s).every((ep) => hintsRight(ep, preferClose))) updates.push(structuredClone(s))
  for (const s of [...create, ...updates]) setHints(s, preferClose)
  return { create, update: updates }
}

/** Strips hints from slices about to be written. */
export function removeHints(slices: readonly KubeObject[]): void {
  for (const s of slices) setHints(s, false)
}
