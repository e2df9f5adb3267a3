/** Shared helpers for the queue, schedule and cluster tests. */
import type { Run } from '../../src/runs/run-types.js';

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The most runs whose [started, finished] intervals overlap at one instant. */
export function maxOverlap(runs: Pick<Run, 'startedAt' | 'finishedAt'>[]): number {
  const events: [number, number][] = [];
  for (const r of runs) {
    if (!r.startedAt || !r.finishedAt) continue;
    events.push([Date.parse(r.startedAt), 1], [Date.parse(r.finishedAt), -1]);
  }
  // Ends sort before starts at the same millisecond: a run finishing as another starts is no overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of events) {
    now += d;
    max = Math.max(max, now);
  }
  return max;
}
