// The type schemas of the converted versions (autoscaling/v1 HorizontalPodAutoscaler),
// added to the generated definitions so that decoding checks (../schema-check.ts:
// wrong JSON types, unknown fields under fieldValidation) apply to v1 bodies as
// kube-apiserver's typed decoder does. The shapes both versions share are copied from
// the stored version's definitions; the v1-only spec and status are written here.
import type { Schema } from '../openapi/definitions.js'

const V1 = 'io.k8s.api.autoscaling.v1'
const V2 = 'io.k8s.api.autoscaling.v2'
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1'

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` })
const int32 = (description: string): Schema => ({ type: 'integer', format: 'int32', description })

function retarget(def: Schema | undefined, kind: string): Schema | undefined {
  if (def === undefined) return undefined
  const text = JSON.stringify(def).replaceAll(`#/definitions/${V2}.`, `#/definitions/${V1}.`)
  const out = JSON.parse(text) as Schema
  out['x-kubernetes-group-version-kind'] = [{ group: 'autoscaling', kind, version: 'v1' }]
  return out
}

/** The converted versions' definitions, by name; built from the stored versions' in `defs`. */
export function convertedDefinitions(defs: ReadonlyMap<string, Schema>): Map<string, Schema> {
  const out = new Map<string, Schema>()
  const hpa = retarget(defs.get(`${V2}.HorizontalPodAutoscaler`), 'HorizontalPodAutoscaler')
  const list = retarget(defs.get(`${V2}.HorizontalPodAutoscalerList`), 'HorizontalPodAutoscalerList')
  const crossRef = defs.get(`${V2}.CrossVersionObjectReference`)
  if (hpa === undefined || list === undefined || crossRef === undefined) return out
  out.set(`${V1}.HorizontalPodAutoscaler`, hpa)
  out.set(`${V1}.HorizontalPodAutoscalerList`, list)
  out.set(`${V1}.CrossVersionObjectReference`, { ...structuredClone(crossRef), 'x-kubernetes-map-type': 'atomic' })
  out.set(`${V1}.HorizontalPodAutoscalerSpec`, {
    description: 'specification of a horizontal pod autoscaler.',
    type: 'object',
    properties: {
      maxReplicas: int32('maxReplicas is the upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.'),
      minReplicas: int32('minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.'),
      scaleTargetRef: { ...ref(`${V1}.CrossVersionObjectReference`), description: 'reference to scaled resource; horizontal pod autoscaler will learn the current resource consumption and will set the desired number of pods by using its Scale subresource.' },
      targetCPUUtilizationPercentage: int32('targetCPUUtilizationPercentage is the target average CPU utilization (represented as a percentage of requested CPU) over all the pods; if not specified the default autoscaling policy will be used.'),
    },
    required: ['scaleTargetRef', 'maxReplicas'],
  })
  out.set(`${V1}.HorizontalPodAutoscalerStatus`, {
    description: 'current status of a horizontal pod autoscaler',
    type: 'object',
    properties: {
      currentCPUUtilizationPercentage: int32('currentCPUUtilizationPercentage is the current average CPU utilization over all pods, represented as a percentage of requested CPU, e.g. 70 means that an average pod is using now 70% of its requested CPU.'),
      currentReplicas: int32('currentReplicas is the current number of replicas of pods managed by this autoscaler.'),
      desiredReplicas: int32('desiredReplicas is the  desired number of replicas of pods managed by this autoscaler.'),
      lastScaleTime: { ...ref(`${META}.Time`), description: 'lastScaleTime is the last time the HorizontalPodAutoscaler scaled the number of pods; used by the autoscaler to control how often the number of pods is changed.' },
      observedGeneration: { type: 'integer', format: 'int64', description: 'observedGeneration is the most recent generation observed by this autoscaler.' },
    },
    required: ['currentReplicas', 'desiredReplicas'],
  })
  return out
}
