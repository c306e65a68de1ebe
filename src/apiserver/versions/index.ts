// Resources served in more versions than the one stored (CONVERTED_RESOURCES of
// src/api/resources.ts): autoscaling/v1 HorizontalPodAutoscalers over the stored
// autoscaling/v2 objects. The API server asks lookup() before resolving a request to a
// stored resource; a hit is handled by the generic REST handler on a converted view.
import { ConversionError, hpaFromV1, hpaToV1 } from '../../api/conversion/autoscaling-v1.js'
import type { Json } from '../../api/json.js'
import { findConvertedResource, storedResourceOf, type ResourceType } from '../../api/resources.js'
import type { HandlerDeps } from '../http/resource-handler.js'
import type { ResourceStore } from '../registry/resource-store.js'
import type { ResourceRequestInfo } from '../request-info.js'
import { checkSchema } from '../schema-check.js'
import { badRequest } from '../status.js'
import type { KubeObject } from '../watch-cache/types.js'
import { type Conversion, ConvertedStore, convertedDeps } from './converted-store.js'

type Convert = (o: Json) => Json

/** The conversion functions of each converted resource, by `<group>/<version>/<kind>`. */
const CONVERTERS: Record<string, { toServed: Convert; toStored: Convert }> = {
  'autoscaling/v1/HorizontalPodAutoscaler': { toServed: hpaToV1, toStored: hpaFromV1 },
}

function conversionFor(served: ResourceType, stored: ResourceType): Conversion {
  const fns = CONVERTERS[`${served.group}/${served.version}/${served.kind}`]
  if (fns === undefined) throw new Error(`no conversion for ${served.group}/${served.version} ${served.kind}`)
  const cannot = (why: string) => badRequest(`${served.kind} in version "${served.version}" cannot be handled as a ${served.kind}: ${why}`)
  return {
    served,
    toServed: (o) => fns.toServed(o) as KubeObject,
    toStored(o) {
      let out: KubeObject
      try {
        out = fns.toStored(o) as KubeObject
      } catch (err) {
        if (err instanceof ConversionError) throw cannot(err.message)
        throw err
      }
      // A wrong JSON type, checked on the converted object (the served kind has no schema here).
      const typeError = checkSchema(stored, out, false).typeError
      if (typeError !== undefined) throw cannot(typeError)
      return out
    },
  }
}

export interface ConvertedView {
  store: ConvertedStore
  deps: HandlerDeps
}

export class ConvertedResources {
  private readonly views = new Map<string, ConvertedView>()

  constructor(
    private readonly stores: (rt: ResourceType) => ResourceStore,
    private readonly deps: HandlerDeps,
  ) {}

  /** The converted view serving a request, or undefined when its group/version/resource is not a converted one. */
  lookup(info: ResourceRequestInfo): ConvertedView | undefined {
    const key = `${info.group}/${info.version}/${info.resource}`
    let view = this.views.get(key)
    if (view !== undefined) return view
    const served = findConvertedResource(info.group, info.version, info.resource)
    const stored = served === undefined ? undefined : storedResourceOf(served)
    if (served === undefined || stored === undefined) return undefined
    const conversion = conversionFor(served, stored)
    const store = new ConvertedStore(this.stores(stored), conversion)
    view = { store, deps: convertedDeps(this.deps, store, conversion) }
    this.views.set(key, view)
    return view
  }
}
