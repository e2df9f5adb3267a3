import { CompiledQuery, type Transaction } from 'kysely';
import { insertRows, insertSql, rowValues } from './bulk-insert.js';
import type { Store } from './database.js';
import type { Database } from './schema.js';

/** SQL text with its bound values. */
export interface BoundSql {
  text: string;
  values: unknown[];
}

/**
 * Updates of one kind (the ends of stored runs, each guarded against overwriting what another process
 * set), written for many items at once. The owner of the table defines it once and reuses it, so the
 * items of a whole group are written together.
 */
export interface GuardedUpdate<T> {
  /** Writes the items inside the caller's transaction. */
  write(trx: Transaction<Database>, items: T[]): Promise<void>;
  /**
   * The items as one statement whose placeholders are numbered after `offset`, so that it can be a part
   * of a larger statement; offered only where the store supports one-statement group commits.
   */
  statement?: ((items: T[], offset: number) => BoundSql) | undefined;
  /** Bound values per item in `statement`. */
  width: number;
}

interface RowInsert {
  table: keyof Database;
  columns: readonly string[];
  row: object;
}

/**
 * Changes to the store's own tables that commit together with something else: the audit trail writes a
 * unit in the transaction (or the one statement) that appends its events, so a run's final record or an
 * accepted payload and its audit event are never one without the other. Rows to insert and guarded
 * updates; the tables' owners add them, whoever commits the unit knows nothing of those tables.
 */
export class UnitOfWork {
  private readonly inserts: RowInsert[] = [];
  private readonly updates = new Map<GuardedUpdate<never>, unknown[]>();

  /** Adds a row to insert; `columns` are the store's own column names, read from `row` (missing: null). */
  insert<K extends keyof Database>(
    table: K,
    columns: readonly (keyof Database[K] & string)[],
    row: Partial<Database[K]>,
  ): this {
    this.inserts.push({ table, columns, row });
    return this;
  }

  /** Adds an item to update; the items of one kind are written together. */
  update<T>(kind: GuardedUpdate<T>, item: T): this {
    const key = kind as GuardedUpdate<never>;
    const items = this.updates.get(key);
    if (items) items.push(item);
    else this.updates.set(key, [item]);
    return this;
  }

  /** Adds another unit's changes after this one's. */
  merge(other: UnitOfWork): this {
    for (const i of other.inserts) this.inserts.push(i);
    for (const [kind, items] of other.updates) {
      const mine = this.updates.get(kind);
      if (mine) for (const item of items) mine.push(item);
      else this.updates.set(kind, [...items]);
    }
    return this;
  }

  /**
   * How many bound values the unit carries as parts of one statement, or undefined when it cannot be
   * one (an update without a statement form).
   */
  statementValues(): number | undefined {
    let values = 0;
    for (const i of this.inserts) values += i.columns.length;
    for (const [kind, items] of this.updates) {
      if (!kind.statement) return undefined;
      values += kind.width * items.length;
    }
    return values;
  }

  /**
   * The unit as statements that can be parts (CTEs) of one statement: one multi-row INSERT per table and
   * columns, then one statement per kind of update. Their placeholders are numbered on from `offset`,
   * each part after the one before; only for units whose `statementValues()` is defined.
   */
  parts(store: Store, offset: number): BoundSql[] {
    const parts: BoundSql[] = [];
    let n = offset;
    for (const group of byTable(this.inserts)) {
      const rows = group.rows as Record<string, unknown>[];
      const text = insertSql(store.placeholder, group.table, group.columns, rows.length, n);
      const values = rowValues(rows, group.columns, 0, rows.length);
      parts.push({ text, values });
      n += values.length;
    }
    for (const [kind, items] of this.updates) {
      if (!kind.statement) throw new Error('an update of this unit has no statement form');
      const part = kind.statement(items as never[], n);
      parts.push(part);
      n += part.values.length;
    }
    return parts;
  }

  /** Writes the unit inside the caller's transaction. */
  async execute(trx: Transaction<Database>, store: Store): Promise<void> {
    for (const group of byTable(this.inserts)) {
      // The rows are read by the column names they came with.
      await insertRows(trx, store, group.table, group.columns, group.rows as Record<string, unknown>[]);
    }
    for (const [kind, items] of this.updates) {
      if (kind.statement) {
        const { text, values } = kind.statement(items as never[], 0);
        await trx.executeQuery(CompiledQuery.raw(text, values));
      } else {
        await kind.write(trx, items as never[]);
      }
    }
  }
}

/** Rows to insert by table and columns, in the order their tables first appear. */
function byTable(
  inserts: readonly RowInsert[],
): { table: keyof Database; columns: readonly string[]; rows: object[] }[] {
  if (inserts.length === 1) {
    const only = inserts[0] as RowInsert;
    return [{ table: only.table, columns: only.columns, rows: [only.row] }];
  }
  const groups = new Map<string, { table: keyof Database; columns: readonly string[]; rows: object[] }>();
  for (const i of inserts) {
    const key = `${i.table}\u0000${i.columns.join(',')}`;
    const group = groups.get(key);
    if (group) group.rows.push(i.row);
    else groups.set(key, { table: i.table, columns: i.columns, rows: [i.row] });
  }
  return [...groups.values()];
}
