/** Exponential back-off with ±20 % jitter, so members that lost a peer together do not retry in lock step. */
export class Backoff {
  private current: number

  constructor(
    private readonly initialMs = 50,
    private readonly maxMs = 2000,
  ) {
    this.current = initialMs
  }

  next(): number {
    const base = this.current
    this.current = Math.min(this.current * 2, this.maxMs)
    return base * (0.8 + 0.4 * Math.random())
  }

  reset(): void {
    this.current = this.initialMs
  }
}
