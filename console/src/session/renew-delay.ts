/**
 * When to renew a token that expires at `expiresAt`: a third of its remaining life before (at most a
 * minute), less a second because the server counts expiry in whole seconds, and never sooner than a
 * second from now. A minute's margin for the default 10-minute token leaves a slow server time to answer.
 */
export function renewDelay(expiresAt: number, now = Date.now()): number {
  const left = expiresAt - now;
  return Math.max(1000, left - 1000 - Math.min(60_000, left / 3));
}
