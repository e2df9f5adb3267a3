import type { FlowSpec } from '../flows/flow-schema.js';

/** The longest wait between two attempts, however many doublings the flow asks for. */
const MAX_DELAY_MS = 3_600_000;

/**
 * When the next attempt of a failed run starts, in milliseconds from now, or undefined when the flow's
 * `retry.attempts` are used up. The first retry waits `retry.delay` seconds (default 5) and each later
 * one twice as long as the one before.
 */
export function retryDelayMs(flow: FlowSpec, attempt: number): number | undefined {
  const retry = flow.retry;
  if (!retry || attempt >= retry.attempts) return undefined;
  const base = (retry.delay ?? 5) * 1000;
  return Math.min(base * 2 ** (attempt - 1), MAX_DELAY_MS);
}
