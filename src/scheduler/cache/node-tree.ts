// The order in which the scheduler looks at nodes (upstream's nodeTree): nodes grouped
// by zone, the list taking one node from each zone in turn. When only some nodes
// are scored (percentageOfNodesToScore), the ones looked at are then spread across
// zones instead of all coming from the zone registered first. Within a zone, nodes
// keep the order in which they arrived; zones, the order in which they appeared.
import { rec } from '../../api/json.js'

const REGION = 'topology.kubernetes.io/region'
const ZONE = 'topology.kubernetes.io/zone'
const BETA_REGION = 'failure-domain.beta.kubernetes.io/region'
const BETA_ZONE = 'failure-domain.beta.kubernetes.io/zone'

/** A node's zone key (region and zone labels, GA names before beta ones); '' when it has none. */
export function zoneKey(node: unknown): string {
  const labels = rec(rec(rec(node).metadata).labels)
  const region = String(labels[REGION] ?? labels[BETA_REGION] ?? '')
  const zone = String(labels[ZONE] ?? labels[BETA_ZONE] ?? '')
  return region === '' && zone === '' ? '' : `${region}:\u0000:${zone}`
}

export class NodeTree {
  private readonly zones = new Map<string, string[]>()
  private readonly zoneOf = new Map<string, string>()
  /** Bumped whenever list() would answer differently. */
  version = 0

  get size(): number {
    return this.zoneOf.size
  }

  has(name: string): boolean {
    return this.zoneOf.has(name)
  }

  /** Adds the node, or moves it when its zone changed. */
  set(name: string, node: unknown): void {
    const zone = zoneKey(node)
    const was = this.zoneOf.get(name)
    if (was === zone) return
    if (was !== undefined) this.remove(name)
    let names = this.zones.get(zone)
    if (names === undefined) this.zones.set(zone, (names = []))
    names.push(name)
    this.zoneOf.set(name, zone)
    this.version++
  }

  remove(name: string): void {
    const zone = this.zoneOf.get(name)
    if (zone === undefined) return
    const names = this.zones.get(zone)!
    names.splice(names.indexOf(name), 1)
    if (names.length === 0) this.zones.delete(zone)
    this.zoneOf.delete(name)
    this.version++
  }

  /** Node names, round-robin across zones. */
  list(): string[] {
    const out: string[] = []
    const zones = [...this.zones.values()]
    for (let i = 0; out.length < this.zoneOf.size; i++) {
      for (const names of zones) if (i < names.length) out.push(names[i]!)
    }
    return out
  }
}
