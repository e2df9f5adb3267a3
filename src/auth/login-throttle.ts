/**
 * Counts failed logins per (login, client address). After `maxFailures` inside the window the pair is
 * locked out, for 30 s doubling with each further failure, capped at the window. Kept in memory: a
 * restart forgets it, which only ever helps a legitimate user. The map is bounded so a flood of
 * distinct logins cannot exhaust memory.
 */
interface Entry {
  failures: number;
  firstAt: number;
  lockedUntil: number;
  /** The lock already reported to the audit trail, so a flood of refused attempts is one event. */
  reportedLock: number;
}

const MAX_ENTRIES = 50_000;

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private key(login: string, client: string): string {
    return `${login}\u0000${client}`;
  }

  /** Seconds until the pair may try again, or 0 when it may try now. */
  retryAfter(login: string, client: string): number {
    const e = this.entries.get(this.key(login, client));
    if (!e) return 0;
    const wait = e.lockedUntil - this.now();
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  /** True the first time a given lock-out is asked about; false for every later refused attempt. */
  firstRefusal(login: string, client: string): boolean {
    const e = this.entries.get(this.key(login, client));
    if (!e || e.reportedLock === e.lockedUntil) return false;
    e.reportedLock = e.lockedUntil;
    return true;
  }

  fail(login: string, client: string): void {
    const key = this.key(login, client);
    const t = this.now();
    let e = this.entries.get(key);
    if (!e || t - e.firstAt > this.windowMs) {
      e = { failures: 0, firstAt: t, lockedUntil: 0, reportedLock: 0 };
      this.entries.delete(key);
      if (this.entries.size >= MAX_ENTRIES) {
        const oldest = this.entries.keys().next();
        if (!oldest.done) this.entries.delete(oldest.value);
      }
      this.entries.set(key, e);
    }
    e.failures += 1;
    if (e.failures >= this.maxFailures) {
      const lock = Math.min(30_000 * 2 ** (e.failures - this.maxFailures), this.windowMs);
      e.lockedUntil = t + lock;
    }
  }

  succeed(login: string, client: string): void {
    this.entries.delete(this.key(login, client));
  }
}
