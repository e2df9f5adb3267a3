/**
 * The key ledger: exactly once for messages. A subscription with a dedupe key hands a database
 * destination the keys of the messages a write is for; the destination records them, inside the
 * transaction of the rows, in a small table `integrator_message_keys` created on demand. A message
 * delivered again (its ack was lost to a crash or a dropped connection) is looked up first and not
 * written again. The primary key makes that hold for two deliveries racing each other too: the second
 * write fails on it, rolls back, and its messages are found recorded the next time.
 */

export const KEYS_TABLE = 'integrator_message_keys';

/**
 * The keys a write records: `scope` names the subscription and the flow step (a key is unique per
 * scope), `keys` the distinct keys of the messages the rows came from.
 */
export interface MessageKeys {
  scope: string;
  keys: string[];
}

export type KeysDialect = 'postgres' | 'mysql' | 'sqlite';

/** The key table, created when missing. */
export function keysDdl(dialect: KeysDialect): string {
  const text = dialect === 'mysql' ? 'VARCHAR(255)' : 'TEXT';
  const at = dialect === 'mysql' ? 'VARCHAR(32)' : 'TEXT';
  return `CREATE TABLE IF NOT EXISTS ${KEYS_TABLE} (scope ${text} NOT NULL, message_key ${text} NOT NULL, committed_at ${at} NOT NULL, PRIMARY KEY (scope, message_key))`;
}

/** The insert of a write's keys (`?` placeholders: MySQL and SQLite), in chunks a statement can bind. */
export function insertKeysSql(keys: MessageKeys, at: string): { text: string; values: string[] }[] {
  const out: { text: string; values: string[] }[] = [];
  for (let i = 0; i < keys.keys.length; i += 300) {
    const chunk = keys.keys.slice(i, i + 300);
    out.push({
      text: `INSERT INTO ${KEYS_TABLE} (scope, message_key, committed_at) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}`,
      values: chunk.flatMap((k) => [keys.scope, k, at]),
    });
  }
  return out;
}

/** The lookups of which of `keys` are recorded (`?` placeholders), in chunks a statement can bind. */
export function findKeysSql(scope: string, keys: readonly string[]): { text: string; values: string[] }[] {
  const out: { text: string; values: string[] }[] = [];
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    out.push({
      text: `SELECT message_key FROM ${KEYS_TABLE} WHERE scope = ? AND message_key IN (${chunk.map(() => '?').join(', ')})`,
      values: [scope, ...chunk],
    });
  }
  return out;
}
