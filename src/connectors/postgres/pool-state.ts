import type pg from 'pg';
import type { LedgerState } from '../commit-ledger.js';
import type { InsertBatcher } from './insert-batcher.js';
import type { PointReader } from './point-reads.js';
import type { SmallWriteShapes } from './small-write-shapes.js';

/**
 * What the runs using one PostgreSQL connection share: its pool and what the connector learns while it
 * lives. The connector owns one (see postgres-connector.ts); closing the connector drops it all.
 */
export interface PgPoolState {
  readonly pool: pg.Pool;
  /** Tables seen to exist: a small write into one skips the catalog query. */
  readonly knownTables: Set<string>;
  /** Concurrent small writes of one shape share a statement. */
  readonly inserts: InsertBatcher;
  /** Concurrent point reads of one query share a round trip. */
  readonly pointReads: PointReader;
  /** Small-write statements by shape, and the names they are prepared under. */
  readonly smallWrites: SmallWriteShapes;
  /** The commit ledger's table and pruning (see commit-ledger.ts). */
  readonly ledger: LedgerState;
  /** The message key table's existence and pruning (see message-keys.ts). */
  readonly keyLedger: LedgerState;
}
