/**
 * The statements of small writes by shape: quoted once, and prepared under a name per pooled connection
 * when they bind few rows.
 */
import { quotePgColumn, quotePgIdent } from '../sql-ident.js';
import type { InsertShape } from './insert-batcher.js';

function insertSql(
  table: string,
  names: readonly string[],
  keys: readonly string[],
  rowCount: number,
): string {
  const cols = names.map(quotePgColumn).join(', ');
  const tuples: string[] = [];
  for (let r = 0; r < rowCount; r++) {
    tuples.push(`(${names.map((_, c) => `$${r * names.length + c + 1}`).join(', ')})`);
  }
  let sql = `insert into ${quotePgIdent(table)} (${cols}) values ${tuples.join(', ')}`;
  if (keys.length > 0) {
    const updates = names.filter((n) => !keys.includes(n));
    const keyList = keys.map(quotePgColumn).join(', ');
    sql +=
      updates.length === 0
        ? ` on conflict (${keyList}) do nothing`
        : ` on conflict (${keyList}) do update set ${updates.map((n) => `${quotePgColumn(n)} = excluded.${quotePgColumn(n)}`).join(', ')}`;
  }
  return sql;
}

/** Small writes of at most this many rows run as named (server-side prepared) statements. */
const PREPARED_MAX_ROWS = 4;

/**
 * Small-write statements by shape (table, columns, conflict keys): the INSERT texts by row count, quoted
 * once, and for few rows the name they are prepared under on each pooled connection (parsed and planned
 * once per connection, then only bound and executed). Bounded: past the limit the map starts over.
 */
export class SmallWriteShape implements InsertShape {
  private readonly texts = new Map<number, { sql: string; name: string | undefined }>();

  constructor(
    readonly key: string,
    private readonly table: string,
    private readonly names: readonly string[],
    private readonly keys: readonly string[],
    private readonly nextName: () => string,
  ) {}

  get columns(): number {
    return this.names.length;
  }

  /**
   * Whether writes of this shape may share a statement: each must count exactly its own rows, which an
   * upsert that does nothing on a conflict would not.
   */
  get sharable(): boolean {
    return this.keys.length === 0 || this.names.some((n) => !this.keys.includes(n));
  }

  private text(rows: number): { sql: string; name: string | undefined } {
    let t = this.texts.get(rows);
    if (!t) {
      const name = rows <= PREPARED_MAX_ROWS ? this.nextName() : undefined;
      t = { sql: insertSql(this.table, this.names, this.keys, rows), name };
      if (this.texts.size >= 64) this.texts.clear();
      this.texts.set(rows, t);
    }
    return t;
  }

  sql(rows: number): string {
    return this.text(rows).sql;
  }

  name(rows: number): string | undefined {
    return this.text(rows).name;
  }
}

const MAX_SMALL_WRITES = 2000;

/**
 * The small-write shapes of one pool. Statement names only need to be unique per connection, and a
 * pool's connections serve that pool alone.
 */
export class SmallWriteShapes {
  private readonly shapes = new Map<string, SmallWriteShape>();
  private statementCount = 0;

  of(table: string, names: readonly string[], keys: readonly string[]): SmallWriteShape {
    const key = `${table}\u0000${names.join('\u0001')}\u0000${keys.join('\u0001')}`;
    let shape = this.shapes.get(key);
    if (!shape) {
      if (this.shapes.size >= MAX_SMALL_WRITES) this.shapes.clear();
      shape = new SmallWriteShape(key, table, names, keys, () => `integrator_w${++this.statementCount}`);
      this.shapes.set(key, shape);
    }
    return shape;
  }

  /** Forgets a shape, so its statements are prepared afresh under new names. */
  forget(shape: SmallWriteShape): void {
    this.shapes.delete(shape.key);
  }
}
