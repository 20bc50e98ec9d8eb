/**
 * A token bucket: `ratePerSecond` refills, up to `burst`. One per socket (and one per address for REST), so a
 * client that floods only drains its own bucket.
 */
export class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.updated = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updated) / 1000) * this.ratePerSecond);
    this.updated = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
