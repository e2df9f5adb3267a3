import { describe, expect, it } from 'vitest';
import { CallGauge } from '../../src/core/call-gauge.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Keeps the event loop busy for `ms`, in slices, as a flood of calls does. */
async function burn(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const slice = performance.now() + 20;
    while (performance.now() < slice) {
      // busy
    }
    await new Promise((r) => setImmediate(r));
  }
}

/** A call arriving (and leaving) every 10 ms on top of those in flight; stop with clearInterval. */
function arrivals(gauge: CallGauge): NodeJS.Timeout {
  return setInterval(() => {
    gauge.enter();
    gauge.leave();
  }, 10);
}

describe('call gauge', () => {
  it('is busy while many calls keep the event loop busy, and soon after they stop', async () => {
    const gauge = new CallGauge(3);
    gauge.enter();
    gauge.enter();
    expect(gauge.busy).toBe(false);
    gauge.enter();
    expect(gauge.busy).toBe(true);
    const crowd = arrivals(gauge);
    await burn(600);
    expect(gauge.busy).toBe(true);
    clearInterval(crowd);
    for (let i = 0; i < 3; i++) gauge.leave();
    await sleep(300);
    expect(gauge.busy).toBe(false);
  });

  it('is not busy when the calls in flight leave the CPU idle (slow calls)', async () => {
    const gauge = new CallGauge(3);
    for (let i = 0; i < 5; i++) gauge.enter();
    const crowd = arrivals(gauge);
    await sleep(600);
    expect(gauge.busy).toBe(false);
    clearInterval(crowd);
  });
});
