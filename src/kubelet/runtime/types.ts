// The seam between the kubelet and whatever runs containers. Two implementations:
// `hollow` (./hollow.ts: containers that only pretend, for tests and scale runs) and
// `process` (containers as OS processes; not written yet). The kubelet decides what
// should run (admission, init order, restart policy, back-off, deletion) and turns
// what the runtime reports into the pod's status; the runtime only starts, stops and
// remembers container instances, as CRI does for the real kubelet.
//
// A runtime keeps, per pod, the newest instance of each container it started: its
// state, times, exit code, restart count and how the previous instance ended. A new
// instance of a container (a restart) replaces the old one and counts one more
// restart; the old one's end becomes `lastTerminated`.
import type { KubeObject } from '../../client/index.js'
import type { ContainerLogOptions } from '../server.js'

export type Json = Record<string, unknown>

/** created: being started (the pod shows ContainerCreating); running; exited. */
export type ContainerState = 'created' | 'running' | 'exited'

/** How an instance ended (ContainerStateTerminated). */
export interface TerminatedState {
  exitCode: number
  /** Completed, Error, OOMKilled, ContainerStatusUnknown, … */
  reason: string
  message?: string
  startedAt?: Date
  finishedAt: Date
  containerID: string
}

/** The newest instance of one container of a pod. */
export interface ContainerRecord {
  name: string
  /** `<runtime>://<id>`, as containerStatuses[].containerID. */
  containerID: string
  image: string
  imageID: string
  /** Instances started before this one. */
  restartCount: number
  state: ContainerState
  startedAt?: Date
  /** Set once exited. */
  terminated?: TerminatedState
  /** How the instance before this one ended. */
  lastTerminated?: TerminatedState
}

/** What the runtime is told when the kubelet starts a container. */
export interface StartContainerRequest {
  /** The pod as the kubelet last saw it. */
  pod: KubeObject
  /** The container's spec (an entry of spec.containers or spec.initContainers). */
  container: Json
  init: boolean
  podIP: string
  hostIP: string
  /** Events about the container (Pulled, Failed, …) recorded against the pod. */
  event(type: 'Normal' | 'Warning', reason: string, message: string): void
}

/**
 * A container that could not be started: the container waits with `reason`
 * (CreateContainerError, RunContainerError, ErrImagePull, …) and the kubelet tries
 * again with the crash-loop back-off.
 */
export class ContainerStartError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message)
    this.name = 'ContainerStartError'
  }
}

export interface RuntimeHealth {
  ready: boolean
  /** Why not ready (the Ready condition's message). */
  message?: string
}

export interface ContainerRuntime {
  /** `hollow`, `process`: the scheme of container IDs. */
  readonly name: string
  /** nodeInfo.containerRuntimeVersion, e.g. `hollow://0.1.0`. */
  readonly version: string
  /** The newest instance of each container the runtime holds for the pod. */
  containers(podUid: string): readonly ContainerRecord[]
  /**
   * Starts a new instance of the container (a restart when one exists). The record
   * shows `created` at once; the promise settles when it runs (or exited already),
   * or rejects with ContainerStartError.
   */
  startContainer(req: StartContainerRequest): Promise<void>
  /**
   * Stops a running or starting instance, giving it `gracePeriodMs` to exit before
   * it is killed; resolves once it exited. A second call with a shorter grace period
   * shortens the wait.
   */
  stopContainer(podUid: string, name: string, gracePeriodMs: number): Promise<void>
  /** Forgets the pod (its containers are stopped). */
  removePod(podUid: string): void
  /**
   * Called once for every pod the kubelet finds bound to its node when it (re)starts,
   * before the pod's first sync: the runtime takes back what still runs of it, so
   * a restarted kubelet adopts its pods instead of starting them again.
   */
  recover(pod: KubeObject): void
  /** Hears of containers that changed by themselves (an exit); returns the unsubscribe. */
  subscribe(listener: (podUid: string) => void): () => void
  /**
   * The log of run `run` (its restart count) of a container, as the user reads it
   * (timestamps, tail, since and limit applied); with `follow`, until that run ends
   * or `signal` aborts. A runtime without logs leaves this out: the log is empty.
   */
  logs?(podUid: string, container: string, run: number, opts: ContainerLogOptions, signal: AbortSignal): AsyncIterable<Buffer | string>
  /**
   * Runs `command` inside a running container — with its environment, working
   * directory, volumes and network identity — for exec probes (and later
   * `kubectl exec`). Resolves with the exit code and the combined output (at most
   * 10 KiB kept, as upstream); the command is killed after `timeoutMs`, which
   * rejects with an Error whose name is 'TimeoutError'. A runtime that cannot run
   * commands leaves this out (exec probes then fail with a clear message).
   */
  exec?(podUid: string, container: string, command: readonly string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>
  /** Whether the runtime can run pods (the node's Ready condition). */
  health(): RuntimeHealth
  close(): Promise<void>
}

/** Whether a running container counts as started and ready (probes, or their stand-in). */
export interface ContainerReadiness {
  /**
   * For a running container: started and ready now, and, when the answer changes
   * with time alone, when to ask again (ms since the epoch).
   */
  check(pod: KubeObject, container: Json, record: ContainerRecord, nowMs: number): { started: boolean; ready: boolean; recheckAtMs?: number }
}

/** Without probes a container is started and ready as soon as it runs. */
export const readyWhenRunning: ContainerReadiness = {
  check: () => ({ started: true, ready: true }),
}
