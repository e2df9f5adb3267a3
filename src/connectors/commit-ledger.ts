/**
 * The commit ledger: a destination database records, inside the transaction that commits a run's rows,
 * which run (and step, and attempt) those rows are for, in a small table `integrator_commits` created on
 * demand. A run executed again (crash recovery, a retry, a sync call re-sent with its Idempotency-Key)
 * asks the ledger first and does not write a step that has committed already: rows land exactly once.
 * The ledger's primary key makes that hold even for two executions racing each other: the second one's
 * record fails, and its transaction rolls back.
 */

/** The ledger's table, in the destination database's default schema. */
export const COMMITS_TABLE = 'integrator_commits';

/**
 * How long a destination keeps a commit record. It must outlive every way a run can execute again:
 * retries and recovery (hours at most) and the Idempotency-Key window (INTEGRATOR_IDEMPOTENCY_WINDOW,
 * capped at this).
 */
export const COMMIT_KEEP_SECONDS = 7 * 86_400;

/** Old records are removed at most this often per connection, inside a commit that records one. */
const PRUNE_EVERY_MS = 3_600_000;

/** What a write commits for: given by the flow engine to the writer of a run that may execute again. */
export interface CommitMark {
  runId: string;
  /** The step of the flow (from 0). */
  step: number;
  attempt: number;
}

/** A commit a destination recorded. */
export interface RecordedCommit {
  attempt: number;
  rowsWritten: number;
  committedAt: string;
}

/** Looks up a destination's commit records; offered by connectors whose writers record commits. */
export interface CommitLedger {
  /** The commit recorded for the run's step, if any (none when the ledger table does not exist yet). */
  find(runId: string, step: number): Promise<RecordedCommit | undefined>;
  /**
   * Of `keys`, those recorded under `scope` by earlier writes (message-keys.ts); offered by
   * destinations whose writers record `DestinationSpec.dedupe` atomically with the rows.
   */
  findKeys?(scope: string, keys: readonly string[]): Promise<Set<string>>;
}

export type LedgerDialect = 'postgres' | 'mysql' | 'sqlite';

/** The ledger table, created when missing. */
export function ledgerDdl(dialect: LedgerDialect): string {
  const id = dialect === 'mysql' ? 'VARCHAR(64)' : 'TEXT';
  const at = dialect === 'mysql' ? 'VARCHAR(32)' : 'TEXT';
  return `CREATE TABLE IF NOT EXISTS ${COMMITS_TABLE} (run_id ${id} NOT NULL, step INTEGER NOT NULL, attempt INTEGER NOT NULL, rows_written BIGINT NOT NULL, committed_at ${at} NOT NULL, PRIMARY KEY (run_id, step))`;
}

function placeholders(dialect: LedgerDialect, n: number): string[] {
  return Array.from({ length: n }, (_, i) => (dialect === 'postgres' ? `$${i + 1}` : '?'));
}

/** The statement (and values) that records a commit, inside the commit's transaction. */
export function recordSql(
  dialect: LedgerDialect,
  mark: CommitMark,
  rowsWritten: number,
): { text: string; values: (string | number)[] } {
  const p = placeholders(dialect, 5);
  return {
    text: `INSERT INTO ${COMMITS_TABLE} (run_id, step, attempt, rows_written, committed_at) VALUES (${p.join(', ')})`,
    values: [mark.runId, mark.step, mark.attempt, rowsWritten, new Date().toISOString()],
  };
}

/** The lookup of one run's step. */
export function findSql(
  dialect: LedgerDialect,
  runId: string,
  step: number,
): { text: string; values: (string | number)[] } {
  const p = placeholders(dialect, 2);
  return {
    text: `SELECT attempt, rows_written, committed_at FROM ${COMMITS_TABLE} WHERE run_id = ${p[0]} AND step = ${p[1]}`,
    values: [runId, step],
  };
}

/** A found ledger row as a RecordedCommit. */
export function toRecorded(row: Record<string, unknown> | undefined): RecordedCommit | undefined {
  if (!row) return undefined;
  return {
    attempt: Number(row['attempt']),
    rowsWritten: Number(row['rows_written']),
    committedAt: String(row['committed_at']),
  };
}

/**
 * Per connection: whether the ledger table is known to exist, and when old records were last removed.
 * `prune()` says whether this commit should also remove the old ones (and returns the statement).
 */
export class LedgerState {
  ready = false;
  private prunedAt = 0;

  constructor(
    private readonly dialect: LedgerDialect,
    /** The table whose old rows prune() removes: the commits, or the message keys. */
    private readonly table = COMMITS_TABLE,
  ) {}

  prune(): { text: string; values: string[] } | undefined {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return undefined;
    this.prunedAt = now;
    const [p] = placeholders(this.dialect, 1);
    return {
      text: `DELETE FROM ${this.table} WHERE committed_at < ${p}`,
      values: [new Date(now - COMMIT_KEEP_SECONDS * 1000).toISOString()],
    };
  }
}
