import type { ByteString } from './byte-string.js'

// Entries per node: a node is split above MAX and refilled (borrow or merge) below
// MIN, so a million keys sit four levels deep and the arrays spliced on every insert
// or delete stay short.
const MAX = 64
const MIN = MAX / 2

/**
 * A B+ tree node. Leaves hold the entries and link to the next leaf, for range scans;
 * branches hold separators: every key under children[i] is < keys[i] ≤ every key
 * under children[i + 1]. One class for both keeps property access monomorphic.
 */
class Node<V> {
  constructor(
    readonly leaf: boolean,
    readonly keys: ByteString[],
    /** Leaves only: values[i] belongs to keys[i]. */
    readonly values: V[],
    /** Branches only: keys.length + 1 subtrees. */
    readonly children: Node<V>[],
    /** Leaves only: the leaf holding the next larger keys. */
    public next: Node<V> | undefined = undefined,
  ) {}

  get entries(): number {
    return this.leaf ? this.keys.length : this.children.length
  }
}

const newLeaf = <V>(keys: ByteString[] = [], values: V[] = []): Node<V> => new Node(true, keys, values, [])
const newBranch = <V>(keys: ByteString[], children: Node<V>[]): Node<V> => new Node(false, keys, [], children)

/** Index of the first key ≥ key (keys.length if none). */
function lowerBound(keys: readonly ByteString[], key: ByteString): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid] < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Index of the first key > key: in a branch, the child whose range holds key. */
function upperBound(keys: readonly ByteString[], key: ByteString): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid] <= key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/**
 * An ordered map from byte strings to values, in bytewise key order; get, set and
 * delete take O(log n), a scan O(log n) plus the entries it visits.
 */
export class BTree<V> {
  private root: Node<V> = newLeaf()
  private count = 0

  get size(): number {
    return this.count
  }

  get(key: ByteString): V | undefined {
    const leaf = this.leafFor(key)
    const i = lowerBound(leaf.keys, key)
    return leaf.keys[i] === key ? leaf.values[i] : undefined
  }

  /** Inserts or replaces. */
  set(key: ByteString, value: V): void {
    const split = this.insert(this.root, key, value)
    if (split !== undefined) this.root = newBranch([split.separator], [this.root, split.right])
  }

  delete(key: ByteString): boolean {
    if (!this.remove(this.root, key)) return false
    if (!this.root.leaf && this.root.children.length === 1) this.root = this.root.children[0]
    return true
  }

  /**
   * Calls visit on each entry with a key ≥ from, in key order, until it returns false.
   * The tree must not be changed during the scan.
   */
  ascend(from: ByteString, visit: (key: ByteString, value: V) => boolean): void {
    let leaf: Node<V> | undefined = this.leafFor(from)
    let i = lowerBound(leaf.keys, from)
    for (; leaf !== undefined; leaf = leaf.next, i = 0) {
      const { keys, values } = leaf
      for (; i < keys.length; i++) if (!visit(keys[i], values[i])) return
    }
  }

  /** Throws if a structural invariant does not hold; for tests. */
  validate(): void {
    const leaves: Node<V>[] = []
    let counted = 0
    const walk = (node: Node<V>, depth: number, low: ByteString | undefined, high: ByteString | undefined): number => {
      const min = node !== this.root ? MIN : node.leaf ? 0 : 2
      if (node.entries < min || node.entries > MAX) throw new Error(`btree: node with ${node.entries} entries`)
      node.keys.forEach((k, i) => {
        if (i > 0 && !(node.keys[i - 1] < k)) throw new Error('btree: keys out of order in a node')
        if ((low !== undefined && k < low) || (high !== undefined && k >= high)) throw new Error('btree: key outside its separators')
      })
      if (node.leaf) {
        if (node.values.length !== node.keys.length) throw new Error('btree: leaf keys and values differ in length')
        leaves.push(node)
        counted += node.keys.length
        return depth
      }
      if (node.children.length !== node.keys.length + 1) throw new Error('btree: branch with wrong child count')
      const depths = node.children.map((c, i) => walk(c, depth + 1, i === 0 ? low : node.keys[i - 1], i === node.keys.length ? high : node.keys[i]))
      if (depths.some((d) => d !== depths[0])) throw new Error('btree: leaves at different depths')
      return depths[0]
    }
    walk(this.root, 0, undefined, undefined)
    if (counted !== this.count) throw new Error(`btree: size ${this.count} but ${counted} entries`)
    leaves.forEach((leaf, i) => {
      if (leaf.next !== leaves[i + 1]) throw new Error('btree: leaf chain does not follow key order')
    })
  }

  private leafFor(key: ByteString): Node<V> {
    let node = this.root
    while (!node.leaf) node = node.children[upperBound(node.keys, key)]
    return node
  }

  // Returns the new right sibling when node overflowed and was split.
  private insert(node: Node<V>, key: ByteString, value: V): { separator: ByteString; right: Node<V> } | undefined {
    if (node.leaf) {
      const i = lowerBound(node.keys, key)
      if (node.keys[i] === key) {
        node.values[i] = value
        return undefined
      }
      node.keys.splice(i, 0, key)
      node.values.splice(i, 0, value)
      this.count++
      if (node.keys.length <= MAX) return undefined
      const mid = node.keys.length >>> 1
      const right = newLeaf(node.keys.splice(mid), node.values.splice(mid))
      right.next = node.next
      node.next = right
      return { separator: right.keys[0], right }
    }
    const ci = upperBound(node.keys, key)
    const split = this.insert(node.children[ci], key, value)
    if (split === undefined) return undefined
    node.keys.splice(ci, 0, split.separator)
    node.children.splice(ci + 1, 0, split.right)
    if (node.children.length <= MAX) return undefined
    // The middle separator moves up: the left half keeps mid children and mid - 1 keys.
    const mid = node.children.length >>> 1
    const rightKeys = node.keys.splice(mid)
    const separator = node.keys.pop() as ByteString
    return { separator, right: newBranch(rightKeys, node.children.splice(mid)) }
  }

  private remove(node: Node<V>, key: ByteString): boolean {
    if (node.leaf) {
      const i = lowerBound(node.keys, key)
      if (node.keys[i] !== key) return false
      node.keys.splice(i, 1)
      node.values.splice(i, 1)
      this.count--
      return true
    }
    const ci = upperBound(node.keys, key)
    if (!this.remove(node.children[ci], key)) return false
    if (node.children[ci].entries < MIN) refill(node, ci)
    return true
  }
}

// Brings parent.children[i] back to MIN entries: borrow one from a sibling that can
// spare it, else merge with a sibling (both then fit in one node: MIN - 1 + MIN ≤ MAX).
// Children of one branch are all leaves or all branches.
function refill<V>(parent: Node<V>, i: number): void {
  const child = parent.children[i]
  const left = i > 0 ? parent.children[i - 1] : undefined
  const right = i + 1 < parent.children.length ? parent.children[i + 1] : undefined
  if (left !== undefined && left.entries > MIN) {
    if (child.leaf) {
      child.keys.unshift(left.keys.pop() as ByteString)
      child.values.unshift(left.values.pop() as V)
      parent.keys[i - 1] = child.keys[0]
    } else {
      child.keys.unshift(parent.keys[i - 1])
      child.children.unshift(left.children.pop() as Node<V>)
      parent.keys[i - 1] = left.keys.pop() as ByteString
    }
  } else if (right !== undefined && right.entries > MIN) {
    if (child.leaf) {
      child.keys.push(right.keys.shift() as ByteString)
      child.values.push(right.values.shift() as V)
      parent.keys[i] = right.keys[0]
    } else {
      child.keys.push(parent.keys[i])
      child.children.push(right.children.shift() as Node<V>)
      parent.keys[i] = right.keys.shift() as ByteString
    }
  } else {
    merge(parent, left !== undefined ? i - 1 : i)
  }
}

// Moves parent.children[i + 1] into parent.children[i] and drops their separator.
function merge<V>(parent: Node<V>, i: number): void {
  const left = parent.children[i]
  const right = parent.children[i + 1]
  if (left.leaf) {
    left.keys.push(...right.keys)
    left.values.push(...right.values)
    left.next = right.next
  } else {
    left.keys.push(parent.keys[i], ...right.keys)
    left.children.push(...right.children)
  }
  parent.keys.splice(i, 1)
  parent.children.splice(i + 1, 1)
}
