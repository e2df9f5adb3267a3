/**
 * When a token expires, in epoch milliseconds: the `exp` claim of the JWT when it can be read (the
 * server counts expiry in whole seconds, so this can be up to a second before `expiresIn` says), else
 * `expiresIn` seconds from now.
 */
export function expiryOf(token: string, expiresIn: number, now = Date.now()): number {
  const byTtl = now + expiresIn * 1000;
  const payload = token.split('.')[1];
  if (!payload) return byTtl;
  try {
    const json: unknown = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
    const exp = typeof json === 'object' && json !== null ? (json as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' ? Math.min(byTtl, exp * 1000) : byTtl;
  } catch {
    return byTtl;
  }
}

/**
 * How long to wait before renewing a token that expires at `expiresAt`: until a third of its remaining
 * life is left (at most a minute before it expires). A page opened with little time left renews at
 * once. A minute's margin for the default 10-minute token leaves a slow server time to answer.
 */
export function renewDelay(expiresAt: number, now = Date.now()): number {
  const left = expiresAt - now;
  return Math.max(0, left - Math.min(60_000, left / 3));
}
