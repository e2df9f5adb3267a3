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

export interface Database {
  users: UsersTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
}
