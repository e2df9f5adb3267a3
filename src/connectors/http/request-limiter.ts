/**
 * The pace one connection's requests keep in this process: at most `requestsPerSecond` starts (spaced
 * evenly) and at most `concurrency` requests waiting for their answer at once. Shared by every run
 * using the connection, since the connector is.
 */
import { cancelledError } from '../abort.js';

export class RequestLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** When the next request may start (performance.now() milliseconds). */
  private nextStart = 0;

  constructor(
    private readonly concurrency: number,
    private readonly requestsPerSecond: number | undefined,
  ) {}

  /** Waits for a place and for the pace; returns the function that gives the place back (once). */
  async acquire(signal: AbortSignal | undefined): Promise<() => void> {
    await this.slot(signal);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
    try {
      await this.pace(signal);
    } catch (err) {
      release();
      throw err;
    }
    return release;
  }

  private slot(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(take);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(cancelledError());
      };
      const take = () => {
        signal?.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      this.waiting.push(take);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async pace(signal: AbortSignal | undefined): Promise<void> {
    if (!this.requestsPerSecond) return;
    const now = performance.now();
    const at = Math.max(now, this.nextStart);
    this.nextStart = at + 1000 / this.requestsPerSecond;
    if (at > now) await sleep(at - now, signal);
  }
}

/** Resolves after `ms`, or rejects with RUN_CANCELLED when the signal aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(cancelledError());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
