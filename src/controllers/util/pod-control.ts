// Creating and deleting a controller's pods (upstream PodControl): pods are made
// from the owner's template with its controllerRef and `<owner>-` as generateName;
// every outcome is an Event on the owner with the reasons kubectl describe shows.
// Creations go out in slow-start batches (1, 2, 4, …) so a quota or an invalid
// template fails one request, not hundreds.
import { errorMessage, type EventRecorder, isNotFound, type KubeObject, type OwnerReference, type RestClient } from '../../client/index.js'
import { PODS } from './resources.js'

type Json = Record<string, unknown>

/** A pod for `template` (a PodTemplateSpec) owned through `ref`, not yet created. */
export function podFromTemplate(template: Json, ownerName: string, ref: OwnerReference | undefined): KubeObject {
  const meta = (template.metadata ?? {}) as Json
  const metadata: Json = { generateName: `${ownerName}-` }
  for (const f of ['labels', 'annotations', 'finalizers'] as const) if (meta[f] !== undefined) metadata[f] = structuredClone(meta[f])
  if (ref !== undefined) metadata.ownerReferences = [ref]
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(template.spec ?? {}) }
}

export class PodControl {
  constructor(
    private readonly writer: RestClient,
    private readonly events: EventRecorder,
  ) {}

  /** Creates the pod; the Event names the created pod, or the error. */
  async create(namespace: string, pod: KubeObject, owner: KubeObject): Promise<KubeObject> {
    try {
      const created = await this.writer.resource(PODS, namespace).create(pod)
      this.events.event(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`)
      return created
    } catch (err) {
      this.events.event(owner, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(err)}`)
      throw err
    }
  }

  /** Deletes the pod (preconditioned on its uid); a pod already gone counts as deleted. */
  async delete(pod: KubeObject, owner: KubeObject): Promise<void> {
    const name = pod.metadata?.name ?? ''
    try {
      await this.writer.resource(PODS, pod.metadata?.namespace).delete(name, { preconditions: { uid: pod.metadata?.uid } })
      this.events.event(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`)
    } catch (err) {
      if (isNotFound(err)) return
      this.events.event(owner, 'Warning', 'FailedDelete', `Error deleting: ${errorMessage(err)}`)
      throw err
    }
  }
}

/** Upstream SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1

/**
 * Calls `fn` `count` times in batches that double after each fully successful batch
 * (1, 2, 4, …); stops after the first batch with a failure. Returns how many calls
 * succeeded and the first error, so the caller can settle expectations for the calls
 * it never made.
 */
export async function slowStartBatch(count: number, fn: () => Promise<unknown>, initial = SLOW_START_INITIAL_BATCH): Promise<{ succeeded: number; error?: unknown }> {
  let remaining = count
  let succeeded = 0
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()))
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    succeeded += results.length - results.filter((r) => r.status === 'rejected').length
    remaining -= batch
    if (failed !== undefined) return { succeeded, error: failed.reason }
  }
  return { succeeded }
}
