// The error an admission plugin refuses a request with (apiserver's
// admission.NewForbidden): `pods "p" is forbidden: <why>`, 403 Forbidden, with the
// resource and name in the details; and Go's error aggregate text for several reasons.
import type { ResourceType } from '../../api/resources.js'
import { ApiError, qualifiedResource } from '../status.js'

export function admissionForbidden(rt: ResourceType, name: string, why: string): ApiError {
  const resource = qualifiedResource(rt.plural, rt.group)
  const message = name === '' ? `${resource} is forbidden: ${why}` : `${resource} "${name}" is forbidden: ${why}`
  return new ApiError(403, 'Forbidden', message, { name, ...(rt.group === '' ? {} : { group: rt.group }), kind: rt.plural })
}

/** utilerrors.NewAggregate(errs).Error(): one message as is, several as `[a, b]` without repeats. */
export function aggregate(messages: readonly string[]): string {
  const seen = [...new Set(messages)]
  if (seen.length <= 1) return seen[0] ?? ''
  return `[${seen.join(', ')}]`
}
