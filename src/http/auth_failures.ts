// Counts failed authentications (a wrong bearer token or stream token) per client address, so a
// client guessing tokens is answered 429 with Retry-After for the rest of a fixed window. This
// counter is one process's; a cluster shares its counts in PostgreSQL (src/cluster/auth_failures.ts).

/** What authentication asks of a failure counter, on one node or shared by a cluster. */
export interface FailedAuthCounter {
  /** Milliseconds until `address` may try again, or 0 when it may now. */
  blockedForMs(address: string): number;
  recordFailure(address: string): void;
}

export interface FailedAuthLimiterOptions {
  /** Failures allowed per address per window; the next request is refused until it ends. */
  maxFailures?: number;
  windowMs?: number;
  /** Addresses tracked at once; past it, expired windows are dropped, then the oldest. */
  maxAddresses?: number;
  now?: () => number;
}

interface Window {
  failures: number;
  endsAt: number;
}

export class FailedAuthLimiter implements FailedAuthCounter {
  private readonly windows = new Map<string, Window>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(options: FailedAuthLimiterOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds until `address` may try again, or 0 when it may now. */
  blockedForMs(address: string): number {
    const window = this.windows.get(address);
    if (!window) return 0;
    const left = window.endsAt - this.now();
    if (left <= 0) {
      this.windows.delete(address);
      return 0;
    }
    return window.failures >= this.maxFailures ? left : 0;
  }

  recordFailure(address: string): void {
    const now = this.now();
    let window = this.windows.get(address);
    if (!window || window.endsAt <= now) {
      this.makeRoom(now);
      window = { failures: 0, endsAt: now + this.windowMs };
      // Re-inserting keeps the map in order of window start, oldest first.
      this.windows.delete(address);
      this.windows.set(address, window);
    }
    window.failures++;
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxAddresses) return;
    for (const [address, window] of this.windows) {
      if (window.endsAt <= now) this.windows.delete(address);
    }
    for (const address of this.windows.keys()) {
      if (this.windows.size < this.maxAddresses) break;
      this.windows.delete(address);
    }
  }
}
