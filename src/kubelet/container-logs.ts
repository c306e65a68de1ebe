// The kubelet's side of `kubectl logs`: which pod and which run of a container a
// request means, with the kubelet's own refusals (validateContainerLogStatus
// upstream) — a container that never started has no log, `previous` needs a run that
// ended — and then the runtime's log of that run.
import type { KubeObject } from '../client/index.js'
import { type ContainerLogOptions, LogError, type LogSource } from './server.js'
import type { ContainerRecord, ContainerRuntime, Json } from './runtime/types.js'

/** The restart count of the run whose log is asked for; LogError 400 when there is none. */
export function logRun(podName: string, container: string, record: ContainerRecord | undefined, previous: boolean): number {
  if (previous) {
    if (record?.lastTerminated === undefined || record.restartCount === 0) throw new LogError(400, `previous terminated container "${container}" in pod "${podName}" not found`)
    return record.restartCount - 1
  }
  if (record === undefined || (record.state === 'created' && record.restartCount === 0)) {
    throw new LogError(400, `container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`)
  }
  // A new instance being created after a crash: its predecessor's log is the one to show.
  if (record.state === 'created') return record.restartCount - 1
  return record.restartCount
}

function containerNames(pod: KubeObject): string[] {
  const spec = (pod.spec ?? {}) as Json
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((f) => ((spec[f] ?? []) as { name?: string }[]).map((c) => c.name ?? ''))
}

async function* nothing(): AsyncIterable<string> {}

/**
 * Answers /containerLogs from the pods a kubelet runs. `pods` looks a pod up by
 * namespace and name among those bound to the node.
 */
export function kubeletLogSource(pods: (namespace: string, name: string) => KubeObject | undefined, runtime: ContainerRuntime): LogSource {
  return {
    async containerLogs(namespace: string, name: string, container: string, opts: ContainerLogOptions, signal: AbortSignal) {
      const pod = pods(namespace, name)
      if (pod === undefined) throw new LogError(404, `pod "${name}" does not exist`)
      if (!containerNames(pod).includes(container)) throw new LogError(404, `container "${container}" not found in pod "${name}"`)
      const uid = String(pod.metadata?.uid ?? '')
      const record = runtime.containers(uid).find((c) => c.name === container)
      const run = logRun(name, container, record, opts.previous)
      // A runtime without logs (hollow containers print nothing) answers with an empty log.
      return runtime.logs?.(uid, container, run, { ...opts, follow: opts.follow && !opts.previous }, signal) ?? nothing()
    },
  }
}
