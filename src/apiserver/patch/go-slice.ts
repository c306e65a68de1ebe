// A Go slice: a window (length) on a backing array with a capacity, where append writes
// into the backing array while there is room and copies it otherwise.
//
// Strategic merge patch's list code deletes and appends in place, and the order it
// finally gives a list under $setElementOrder is read from the original slice after
// those writes went through its backing array. kubectl's three-way patches (delete an
// item, keep server-only items, set the order) hit exactly that, so the ordering only
// matches kube-apiserver's when the aliasing is reproduced. Slices decoded from JSON or
// protobuf grow one append at a time from empty, so their capacity is the next power of
// two of their length.

import type { Json } from './json.js'

// runtime.growslice for 16-byte elements (interface values), size classes included for
// the small sizes that matter.
function growCapacity(oldCap: number, needed: number): number {
  let cap: number
  if (needed > 2 * oldCap) cap = needed
  else if (oldCap < 256) cap = 2 * oldCap
  else {
    cap = oldCap
    while (cap < needed) cap += Math.floor((cap + 3 * 256) / 4)
  }
  const bytes = cap * 16
  const classes = [16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048]
  const fit = classes.find((c) => c >= bytes)
  return fit === undefined ? cap : fit / 16
}

/** The capacity of a slice of `length` items built by appending one at a time. */
export function appendedCapacity(length: number): number {
  let cap = 0
  for (let len = 1; len <= length; len++) if (len > cap) cap = growCapacity(cap, len)
  return cap
}

export class GoSlice {
  private constructor(
    private readonly backing: Json[],
    readonly length: number,
    readonly capacity: number,
  ) {}

  /** A slice of these items as decoding builds it (appended one by one). */
  static decoded(items: readonly Json[]): GoSlice {
    return new GoSlice([...items], items.length, appendedCapacity(items.length))
  }

  at(i: number): Json {
    return this.backing[i] ?? null
  }

  set(i: number, v: Json): void {
    this.backing[i] = v
  }

  items(): Json[] {
    return this.backing.slice(0, this.length)
  }

  /** `s[:n]`: same backing array and capacity. */
  truncate(n: number): GoSlice {
    return new GoSlice(this.backing, n, this.capacity)
  }

  append(...values: readonly Json[]): GoSlice {
    const needed = this.length + values.length
    if (needed <= this.capacity) {
      values.forEach((v, k) => {
        this.backing[this.length + k] = v
      })
      return new GoSlice(this.backing, needed, this.capacity)
    }
    return new GoSlice([...this.items(), ...values], needed, growCapacity(this.capacity, needed))
  }

  /** `append(s[:i], s[i+1:]...)`: shifts the tail left in the same backing array. */
  removeAt(i: number): GoSlice {
    return this.truncate(i).append(...this.backing.slice(i + 1, this.length))
  }
}
