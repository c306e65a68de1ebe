// Lease ID generation as etcd does it (pkg/idutil/id.go plus EtcdServer.LeaseGrant).
// A member picks the ID before proposing the grant, so IDs must be unique across
// members without coordination:
//   bits 48..63  low 16 bits of the member ID (different members, different IDs)
//   bits  0..47  (unix ms at generator start, low 40 bits) << 8, plus a counter that
//                is incremented before each use (a restarted member starts later in
//                time, so it does not reissue the IDs of its previous run)
// then, as LeaseGrant does, `& math.MaxInt64`: bit 63 is cleared so IDs are positive
// int64s; member ID bit 15 is lost there, so bits 48..62 hold member ID bits 0..14.
// Differences from etcd, on purpose: etcd shares this generator with request IDs and
// lets a grant fail with "lease already exists" when the ID is taken; here the
// generator is for leases only and skips IDs the caller says are in use.

const MASK_40 = (1n << 40n) - 1n
const MASK_48 = (1n << 48n) - 1n
const MASK_63 = (1n << 63n) - 1n

export class LeaseIdGenerator {
  private readonly prefix: bigint
  private suffix: bigint

  /**
   * @param memberId this member's ID (raft node ID); only its low 16 bits are used.
   * @param startMs wall-clock unix time in ms when the member starts (Date.now()).
   */
  constructor(memberId: bigint | number | string, startMs: number) {
    const member = BigInt.asUintN(16, BigInt(memberId))
    this.prefix = member << 48n
    this.suffix = (BigInt(Math.floor(startMs)) & MASK_40) << 8n
  }

  /** The next lease ID, as a decimal string: never "0", never one for which `inUse` is true. */
  next(inUse: (id: string) => boolean = () => false): string {
    for (;;) {
      this.suffix = BigInt.asUintN(64, this.suffix + 1n)
      const id = ((this.prefix | (this.suffix & MASK_48)) & MASK_63).toString()
      if (id !== '0' && !inUse(id)) return id
    }
  }
}
