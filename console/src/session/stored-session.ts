import type { Role } from '../api/types.js';

/** What the console keeps of a sign-in: the token, when it expires, and who it belongs to. */
export interface StoredSession {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  login: string;
  role: Role;
}

const KEY = 'integrator.session';
const ROLES = new Set<string>(['api', 'viewer', 'operator', 'editor', 'admin']);

function isRole(v: unknown): v is Role {
  return typeof v === 'string' && ROLES.has(v);
}

/**
 * The session lives in sessionStorage: it survives a reload of the tab, ends with the tab, and is not
 * shared with other tabs. Never the password.
 */
export function loadSession(now = Date.now()): StoredSession | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { token, expiresAt, login, role } = parsed as Record<string, unknown>;
  if (typeof token !== 'string' || typeof expiresAt !== 'number' || typeof login !== 'string')
    return undefined;
  if (!isRole(role) || expiresAt <= now) return undefined;
  return { token, expiresAt, login, role };
}

export function saveSession(session: StoredSession | undefined): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}
