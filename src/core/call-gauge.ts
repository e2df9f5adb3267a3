import { performance } from 'node:perf_hooks';

/** How long an intake counts as busy after it last had many calls in flight, and how often the event loop is sampled. */
const WINDOW_MS = 250;
/**
 * Event loop utilisation above which the calls count as taking the CPU. Not higher: a burst of calls
 * waits on the store's group commit much of the time, so even an intake that could go no faster keeps
 * the loop well short of full.
 */
const SATURATED = 0.5;

/**
 * Tells whether listener calls are taking this process's CPU. A process that both takes calls and runs
 * queued runs (the embedded queue of role `all`) gives the calls the CPU first: while many are in flight
 * and they keep the event loop busy, it starts queued runs one at a time, so a burst of async payloads
 * is accepted at full speed and worked off afterwards, instead of every accept waiting behind the runs
 * of the ones before it. Slow calls that leave the CPU mostly idle do not hold runs back.
 */
export class CallGauge {
  private inFlight = 0;
  /** When the calls in flight last reached the threshold. */
  private crowdedAt = Number.NEGATIVE_INFINITY;
  private saturated = true;
  private last = performance.eventLoopUtilization();
  private timer: NodeJS.Timeout | undefined;

  /** `threshold` calls in flight (with a busy event loop) make a busy intake. */
  constructor(private readonly threshold = 8) {}

  enter(): void {
    if (++this.inFlight < this.threshold) return;
    this.crowdedAt = performance.now();
    if (!this.timer) {
      this.last = performance.eventLoopUtilization();
      this.saturated = true;
      this.timer = setInterval(() => this.sample(), WINDOW_MS);
      this.timer.unref();
    }
  }

  leave(): void {
    this.inFlight--;
  }

  /** Whether queued runs should yield to the calls now. */
  get busy(): boolean {
    // The count empties for an instant whenever a burst of answers goes out: hold on for a moment.
    return this.saturated && performance.now() - this.crowdedAt < WINDOW_MS;
  }

  private sample(): void {
    const now = performance.eventLoopUtilization();
    this.saturated = performance.eventLoopUtilization(now, this.last).utilization > SATURATED;
    this.last = now;
    if (performance.now() - this.crowdedAt > WINDOW_MS && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
