import type { Generated } from 'kysely';

/**
 * Tables of the metadata store. The same tables exist on SQLite and PostgreSQL, so column types are the
 * portable subset: text, integers, and JSON kept as text. Times are ISO-8601 UTC strings, which sort
 * correctly as text on both databases.
 */
export interface UsersTable {
  id: string;
  login: string;
  password_hash: string;
  role: string;
  disabled: number;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  key_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  client_ip: string | null;
  duration_ms: number | null;
  details: string | null;
  prev_hash: string;
  hash: string;
}

export interface DefinitionsTable {
  kind: string;
  name: string;
  /** The definition as JSON, with secret fields removed. */
  spec: string;
  /** Secret fields as AES-256-GCM ciphertext (see secret-box.ts), or null. */
  secrets: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  updated_by: string | null;
  /**
   * The admin whose save approved settings only an admin may choose (a connection outside the file
   * roots); null when the definition has none.
   */
  approved_by: string | null;
}

/** One saved version of a definition (see migrations/009-definition-versions.ts). */
export interface DefinitionVersionsTable {
  kind: string;
  name: string;
  version: number;
  spec: string;
  secrets: string | null;
  saved_at: string;
  saved_by: string | null;
  approved_by: string | null;
}

export interface RunsTable {
  id: string;
  flow: string;
  trigger: string;
  status: string;
  params: string;
  requested_by: string | null;
  parent_id: string | null;
  attempt: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  rows_read: number;
  rows_written: number;
  error: string | null;
  /** The error catalog code of the failure. */
  error_code?: string | null;
  steps: string | null;
  log: string | null;
  worker: string | null;
  /** Earliest start of a queued run (retry backoff); null means at once. */
  not_before?: string | null;
  /** Last sign of life from the process executing the run; a stale one means the run was interrupted. */
  heartbeat_at?: string | null;
  /** The schedule that fired the run. */
  schedule?: string | null;
  /** Runs sharing a lane run one at a time (a schedule with overlap `queue`). */
  lane?: string | null;
}

export interface ScheduleFiresTable {
  schedule: string;
  /** The tick (ISO time) this row claims; the primary key makes each tick fire once. */
  fire_time: string;
  fired_at: string;
  /** pending, queued, skipped or failed. */
  outcome: string;
  run_id: string | null;
  error: string | null;
}

/** A payload an async listener accepted; see migrations/003-listeners.ts. */
export interface ListenerPayloadsTable {
  message_id: string;
  listener: string;
  run_id: string;
  idempotency_key: string | null;
  /** The format and reader options the body is parsed with, as JSON. */
  format: string;
  body: Uint8Array;
  received_at: string;
}

/**
 * An Idempotency-Key a listener has seen, kept for INTEGRATOR_IDEMPOTENCY_WINDOW from `created_at`,
 * whatever becomes of the payload; see migrations/007-idempotency-keys.ts.
 */
export interface IdempotencyKeysTable {
  listener: string;
  key: string;
  run_id: string;
  /** The async call's message; null for a sync call. */
  message_id: string | null;
  created_at: string;
}

/** The head of the audit hash chain: one row, id 1; see migrations/005-audit-chain.ts. */
export interface AuditChainTable {
  id: number;
  hash: string;
}

/** Whether a subscription is paused; see migrations/010-subscriptions.ts. */
export interface SubscriptionStatesTable {
  name: string;
  paused: number;
  changed_by: string | null;
  changed_at: string;
}

/** What one process consuming a subscription last reported; see migrations/010-subscriptions.ts. */
export interface SubscriptionWorkersTable {
  name: string;
  worker: string;
  state: string;
  consumed: number | string;
  acked: number | string;
  failed: number | string;
  dead_lettered: number | string;
  last_error: string | null;
  last_error_at: string | null;
  started_at: string;
  updated_at: string;
}

export interface Database {
  users: UsersTable;
  audit_chain: AuditChainTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  definitions: DefinitionsTable;
  definition_versions: DefinitionVersionsTable;
  runs: RunsTable;
  listener_payloads: ListenerPayloadsTable;
  idempotency_keys: IdempotencyKeysTable;
  schedule_fires: ScheduleFiresTable;
  subscription_states: SubscriptionStatesTable;
  subscription_workers: SubscriptionWorkersTable;
}
