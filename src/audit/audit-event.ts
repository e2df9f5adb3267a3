import { createHash } from 'node:crypto';

export type Outcome = 'success' | 'failure' | 'denied';

/** What a caller records. The store adds the id, time and hash chain. */
export interface AuditInput {
  action: string;
  outcome: Outcome;
  actor?: string | null;
  target?: string | null;
  clientIp?: string | null;
  durationMs?: number | null;
  details?: Record<string, unknown> | null;
  /** Defaults to now. */
  at?: Date;
}

export interface AuditEvent {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  clientIp: string | null;
  durationMs: number | null;
  details: Record<string, unknown> | null;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The fields the chain covers, in a fixed order, as stored (details as its JSON text). */
export interface ChainedFields {
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  client_ip: string | null;
  duration_ms: number | null;
  details: string | null;
}

/**
 * hash = SHA-256(prev_hash || canonical JSON of the event). Changing, inserting or removing a row breaks
 * every hash after it, which `integrator audit verify` detects.
 */
export function chainHash(prevHash: string, e: ChainedFields): string {
  const canonical = JSON.stringify([
    e.at,
    e.actor,
    e.action,
    e.target,
    e.outcome,
    e.client_ip,
    e.duration_ms,
    e.details,
  ]);
  return createHash('sha256').update(`${prevHash}\n${canonical}`).digest('hex');
}
