import type { Role } from '../auth/role-names.js';
import { AppError, errorMessage } from '../core/errors.js';
import type { AuditLog } from './audit-log.js';

/** Who performs a change, as the audit trail records it. */
export interface Actor {
  /** A login, or `system` / `cli:<os user>` for changes made outside the API. */
  name: string;
  clientIp?: string | undefined;
  /**
   * The role of a user acting through the API. Absent for changes made outside the API (the CLI,
   * start-up), which act with the rights of whoever runs the server and so count as an admin's.
   */
  role?: Role | undefined;
}

/** Whether `actor` may make changes only an admin may make (see Actor.role). */
export function actsAsAdmin(actor: Actor): boolean {
  return actor.role === undefined || actor.role === 'admin';
}

/**
 * Runs a state change and records it: outcome success with `details`, or failure (denied for 403) with
 * the error message. The change's own error is rethrown unchanged.
 */
export async function audited<T>(
  audit: AuditLog,
  actor: Actor,
  action: string,
  target: string | null,
  change: () => Promise<T>,
  details?: (result: T) => Record<string, unknown> | null,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await change();
    await audit.record({
      action,
      outcome: 'success',
      actor: actor.name,
      target,
      clientIp: actor.clientIp ?? null,
      durationMs: performance.now() - started,
      details: details ? details(result) : null,
    });
    return result;
  } catch (err) {
    await audit.record({
      action,
      outcome: err instanceof AppError && err.status === 403 ? 'denied' : 'failure',
      actor: actor.name,
      target,
      clientIp: actor.clientIp ?? null,
      durationMs: performance.now() - started,
      details: { error: errorMessage(err) },
    });
    throw err;
  }
}
