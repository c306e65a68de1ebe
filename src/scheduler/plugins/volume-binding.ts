// VolumeBinding (kube-scheduler's plugin of that name, 1.32 behaviour): a pod that uses
// PersistentVolumeClaims goes only where its volumes can be.
//
//   PreFilter  the pod's claims (its persistentVolumeClaim volumes, and `<pod>-<volume>`
//              for generic ephemeral ones) must exist, not be being deleted, and be
//              bound unless their class waits for the first consumer
//              (WaitForFirstConsumer): an unbound claim of an Immediate class (or of no
//              class) is the PV controller's to bind, so the pod waits. Bound claims on
//              hostname-pinned (local) volumes name the only candidate nodes.
//   Filter     per node: every bound claim's volume must admit the node (its node
//              affinity); every unbound WaitForFirstConsumer claim needs either an
//              Available volume that matches it and admits the node, or a class that
//              can provision one there (a provisioner, and the node in the class's
//              allowedTopologies).
//   Reserve    the chosen volumes (claimRef) and claims to provision (selected-node) are
//              assumed in the volume cache, so the next pod does not take them too.
//   PreBind    writes those, then waits for the PV controller and provisioner to bind
//              every claim (bindTimeoutSeconds), before the pod is bound.
//
// Left out, as in upstream's defaults or beyond our cluster: CSI storage capacity
// (CSIStorageCapacity objects), in-tree to CSI migration, and the alpha capacity
// scoring (VolumeCapacityPriority), so this plugin does not score.
import { rec, str } from '../../api/json.js'
import { errorMessage } from '../../client/logger.js'
import type { KubeObject } from '../../client/types.js'
import type { NodeInfo, PodInfo } from '../framework/node-info.js'
import type {
  BindingHandle,
  CycleState,
  FilterPlugin,
  PreBindPlugin,
  PreFilterResult,
  ReservePlugin,
  Snapshot,
  Status,
  VolumeListers,
} from '../framework/types.js'
import { bindPodVolumes, type PodVolumes, type StaticBinding } from './helpers/volume-binder.js'
import {
  ANN_SELECTED_NODE,
  claimClass,
  claimVolumeName,
  isClaimFullyBound,
  NOT_SUPPORTED_PROVISIONER,
  notOwnedByPod,
  podClaimRefs,
  selectedNode,
  withAnnotation,
} from '../../api/volume/claims.js'
import { bindVolumeToClaim, claimRequest, findMatchingVolume } from '../../api/volume/matching.js'
import { allowedTopologiesMatch, localVolumeNodeNames, volumeNodeAffinityMatches } from '../../api/volume/topology.js'
import { VOLUME_BINDING } from './names.js'

export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind"
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict'
export const ERR_REASON_PV_NOT_EXIST = 'node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)'
export const ERR_REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims'

export const DEFAULT_BIND_TIMEOUT_SECONDS = 600

export interface VolumeBindingArgs {
  /** How long PreBind waits for the claims to be bound (default 600). */
  bindTimeoutSeconds?: number
}

const stateKey = `${VOLUME_BINDING}/claims`

/** What PreFilter found of the pod's claims, and what Filter and Reserve add for nodes. */
interface ClaimsState {
  readonly listers: VolumeListers
  readonly bound: readonly KubeObject[]
  /** Unbound claims of WaitForFirstConsumer classes, smallest request first (so each gets the smallest volume that fits). */
  readonly delayed: readonly KubeObject[]
  /** The volumes the delayed claims may get, by class, listed once per cycle. */
  readonly candidates: ReadonlyMap<string, readonly KubeObject[]>
  /** What Filter found for each node that passed. */
  readonly byNode: Map<string, PodVolumes>
  /** What Reserve assumed for the chosen node; undefined: nothing to bind. */
  reserved: PodVolumes | undefined
}

const SKIP = { skip: true } as const

function unresolvable(reason: string): Status {
  return { code: 'UnschedulableAndUnresolvable', reasons: [reason], plugin: VOLUME_BINDING }
}

function failed(message: string): Status {
  return { code: 'Error', reasons: [message], plugin: VOLUME_BINDING }
}

/** Whether binding waits for a consumer, from the claim's class; a Status when the class is broken (upstream's IsDelayBindingMode). */
function delaysBinding(claim: KubeObject, listers: VolumeListers): boolean | Status {
  const className = claimClass(claim)
  if (className === '') return false
  const sc = listers.storageClass(className)
  // A missing class is the PV controller's problem: treated as Immediate, as upstream.
  if (sc === undefined) return false
  const mode = sc.volumeBindingMode
  if (mode === undefined || mode === null) return failed(`VolumeBindingMode not set for StorageClass "${className}"`)
  return mode === 'WaitForFirstConsumer'
}

/** The nodes every bound claim's local volume is pinned to (upstream's GetEligibleNodes); undefined: no restriction. */
function eligibleNodes(bound: readonly KubeObject[], listers: VolumeListers): ReadonlySet<string> | undefined {
  let names: Set<string> | undefined
  for (const claim of bound) {
    const pv = listers.volume(claimVolumeName(claim))
    if (pv === undefined) return undefined
    const pinned = localVolumeNodeNames(pv)
    if (pinned === undefined || pinned.size === 0) continue
    names = names === undefined ? new Set(pinned) : new Set([...names].filter((n) => pinned.has(n)))
  }
  return names
}

export class VolumeBinding implements FilterPlugin, ReservePlugin, PreBindPlugin {
  readonly name = VOLUME_BINDING
  readonly bindTimeoutSeconds: number

  constructor(args: VolumeBindingArgs = {}) {
    this.bindTimeoutSeconds = args.bindTimeoutSeconds ?? DEFAULT_BIND_TIMEOUT_SECONDS
  }

  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status | { skip: true } | PreFilterResult | undefined {
    const refs = podClaimRefs(pod.pod)
    if (refs.length === 0) return SKIP
    const listers = snapshot.volumes
    const claims: KubeObject[] = []
    const seen = new Set<string>()
    for (const ref of refs) {
      const claim = listers?.claim(pod.namespace, ref.claimName)
      if (claim === undefined) {
        // Normal right after an ephemeral volume's pod is created: its controller has not made the claim yet.
        return unresolvable(
          ref.ephemeral ? `waiting for ephemeral volume controller to create the persistentvolumeclaim "${ref.claimName}"` : `persistentvolumeclaim "${ref.claimName}" not found`,
        )
      }
      if (rec(claim.status).phase === 'Lost') return unresolvable(`persistentvolumeclaim "${ref.claimName}" bound to non-existent persistentvolume "${claimVolumeName(claim)}"`)
      if (claim.metadata?.deletionTimestamp !== undefined) return unresolvable(`persistentvolumeclaim "${ref.claimName}" is being deleted`)
      if (ref.ephemeral) {
        const why = notOwnedByPod(pod.pod, claim)
        if (why !== undefined) return unresolvable(why)
      }
      if (!seen.has(ref.claimName)) {
        seen.add(ref.claimName)
        claims.push(claim)
      }
    }
    // listers is defined: every claim was found through it.
    const volumes = listers!
    const bound: KubeObject[] = []
    const delayed: KubeObject[] = []
    let immediate = 0
    for (const claim of claims) {
      if (isClaimFullyBound(claim)) {
        bound.push(claim)
        continue
      }
      const delay = delaysBinding(claim, volumes)
      if (typeof delay !== 'boolean') return delay
      // A claim pre-bound to a named volume is the PV controller's to finish, like an Immediate one.
      if (delay && claimVolumeName(claim) === '') delayed.push(claim)
      else immediate++
    }
    // The PV controller binds these; the claims' updates bring the pod back.
    if (immediate > 0) return unresolvable(ERR_REASON_UNBOUND_IMMEDIATE)
    const sizes = new Map(delayed.map((c) => [c, claimRequest(c)]))
    delayed.sort((a, b) => sizes.get(a)!.cmp(sizes.get(b)!))
    const candidates = new Map<string, readonly KubeObject[]>()
    for (const claim of delayed) {
      const cls = claimClass(claim)
      if (!candidates.has(cls)) candidates.set(cls, volumes.volumesOfClass(cls))
    }
    const s: ClaimsState = { listers: volumes, bound, delayed, candidates, byNode: new Map(), reserved: undefined }
    state.set(stateKey, s)
    const nodeNames = eligibleNodes(bound, volumes)
    return nodeNames === undefined ? undefined : { nodeNames }
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status | undefined {
    const s = state.get(stateKey) as ClaimsState | undefined
    if (s === undefined) return undefined
    const labels = node.labels
    let boundSatisfied = true
    let boundVolumesFound = true
    for (const claim of s.bound) {
      const pv = s.listers.volume(claimVolumeName(claim))
      if (pv === undefined) {
        boundVolumesFound = false
        break
      }
      if (!volumeNodeAffinityMatches(pv, labels)) {
        boundSatisfied = false
        break
      }
    }
    let unboundSatisfied = true
    let found: PodVolumes | undefined
    if (s.delayed.length > 0) {
      let r: PodVolumes | undefined
      try {
        r = this.findUnboundVolumes(s, node)
      } catch (err) {
        return failed(errorMessage(err))
      }
      unboundSatisfied = r !== undefined
      found = r
    }
    if (boundSatisfied && boundVolumesFound && unboundSatisfied) {
      s.byNode.set(node.name, found ?? { staticBindings: [], dynamicProvisions: [] })
      return undefined
    }
    const reasons: string[] = []
    if (!boundSatisfied) reasons.push(ERR_REASON_NODE_CONFLICT)
    if (!unboundSatisfied) reasons.push(ERR_REASON_BIND_CONFLICT)
    if (!boundVolumesFound) reasons.push(ERR_REASON_PV_NOT_EXIST)
    return { code: 'UnschedulableAndUnresolvable', reasons, plugin: VOLUME_BINDING }
  }

  /**
   * How the delayed claims get volumes on `node` (upstream's FindPodVolumes, unbound
   * part): undefined when some claim cannot. A claim already given a node (a previous
   * attempt's selected-node) is provisioned there and nowhere else; the others take
   * a matching volume, and failing that are provisioned. Throws on a broken claim or class.
   */
  private findUnboundVolumes(s: ClaimsState, node: NodeInfo): PodVolumes | undefined {
    const labels = node.labels
    const toProvision: KubeObject[] = []
    const toMatch: KubeObject[] = []
    for (const claim of s.delayed) {
      const selected = selectedNode(claim)
      if (selected === undefined) toMatch.push(claim)
      else if (selected === node.name) toProvision.push(claim)
      else return undefined
    }
    const staticBindings: StaticBinding[] = []
    const chosen = new Set<string>()
    for (const claim of toMatch) {
      const pv = findMatchingVolume(claim, s.candidates.get(claimClass(claim)) ?? [], labels, chosen)
      if (pv === undefined) {
        toProvision.push(claim)
        continue
      }
      chosen.add(str(pv.metadata?.name))
      staticBindings.push({ volume: pv, claim })
    }
    for (const claim of toProvision) {
      const className = claimClass(claim)
      if (className === '') throw new Error(`no class for claim "${str(claim.metadata?.namespace)}/${str(claim.metadata?.name)}"`)
      const sc = s.listers.storageClass(className)
      if (sc === undefined) throw new Error(`failed to find storage class "${className}"`)
      const provisioner = str(sc.provisioner)
      if (provisioner === '' || provisioner === NOT_SUPPORTED_PROVISIONER) return undefined
      if (!allowedTopologiesMatch(sc, labels)) return undefined
    }
    return { staticBindings, dynamicProvisions: toProvision }
  }

  reserve(state: CycleState, pod: PodInfo, nodeName: string, handle: BindingHandle): Status | undefined {
    const s = state.get(stateKey) as ClaimsState | undefined
    const found = s?.byNode.get(nodeName)
    if (s === undefined || found === undefined || s.delayed.length === 0) return undefined
    const cache = handle.volumes
    if (cache === undefined) return failed('the scheduler has no volume cache')
    const reserved: PodVolumes = { staticBindings: [], dynamicProvisions: [] }
    try {
      for (const b of found.staticBindings) {
        const { volume, dirty } = bindVolumeToClaim(b.volume, b.claim)
        if (dirty) cache.assumeVolume(volume)
        reserved.staticBindings.push({ volume, claim: b.claim })
      }
      for (const claim of found.dynamicProvisions) {
        const annotated = withAnnotation(claim, ANN_SELECTED_NODE, nodeName)
        cache.assumeClaim(annotated)
        reserved.dynamicProvisions.push(annotated)
      }
    } catch (err) {
      s.reserved = reserved
      this.unreserve(state, pod, nodeName, handle)
      return failed(errorMessage(err))
    }
    s.reserved = reserved
    return undefined
  }

  unreserve(state: CycleState, _pod: PodInfo, _nodeName: string, handle: BindingHandle): void {
    const s = state.get(stateKey) as ClaimsState | undefined
    const r = s?.reserved
    if (s === undefined || r === undefined || handle.volumes === undefined) return
    for (const b of r.staticBindings) handle.volumes.restoreVolume(str(b.volume.metadata?.name))
    for (const c of r.dynamicProvisions) handle.volumes.restoreClaim(str(c.metadata?.namespace), str(c.metadata?.name))
    s.reserved = undefined
  }

  async preBind(state: CycleState, pod: PodInfo, nodeName: string, handle: BindingHandle): Promise<Status | undefined> {
    const s = state.get(stateKey) as ClaimsState | undefined
    const r = s?.reserved
    if (r === undefined || (r.staticBindings.length === 0 && r.dynamicProvisions.length === 0)) return undefined
    try {
      await bindPodVolumes(handle, pod.pod, nodeName, r, this.bindTimeoutSeconds * 1000)
    } catch (err) {
      return failed(errorMessage(err))
    }
    return undefined
  }
}
