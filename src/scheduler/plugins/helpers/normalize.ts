// Upstream's helper.DefaultNormalizeScore: maps raw scores in [0, max] onto
// [0, MAX_NODE_SCORE] with Go's integer division, optionally reversed (fewer is
// better). All zeros stay zeros, or become the maximum when reversed.
import { MAX_NODE_SCORE } from '../../framework/types.js'

export function defaultNormalizeScore(scores: number[], reverse: boolean, maxPriority = MAX_NODE_SCORE): void {
  let max = 0
  for (const s of scores) if (s > max) max = s
  if (max === 0) {
    if (reverse) scores.fill(maxPriority)
    return
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.trunc((maxPriority * scores[i]) / max)
    scores[i] = reverse ? maxPriority - s : s
  }
}
