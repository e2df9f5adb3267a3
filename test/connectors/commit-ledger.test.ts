/**
 * The commit ledger on every database connector: a write that carries a commit mark records it in the
 * same transaction as its rows, a rolled-back write records nothing, and a second commit for the same
 * run step is refused with its rows, so a run executed again cannot land its rows twice.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, DestinationSpec } from '../../src/connectors/connector.js';
import { mysqlConnectorType } from '../../src/connectors/mysql/mysql-type.js';
import { postgresConnectorType } from '../../src/connectors/postgres/postgres-type.js';
import { sqliteConnectorType } from '../../src/connectors/sqlite/sqlite-connector.js';
import type { Column, Row } from '../../src/core/records.js';
import { connectorContext } from '../helpers/connector-context.js';
import { createMariaDatabase, createPgDatabase } from '../services.js';
import { readRows } from './conformance.js';

const COLUMNS: Column[] = [
  { name: 'id', type: 'integer' },
  { name: 'name', type: 'text' },
];
const rows = (from: number, n: number): Row[] =>
  Array.from({ length: n }, (_, i) => ({ id: BigInt(from + i), name: `r${from + i}` }));

interface Target {
  connector: Connector;
  drop(): Promise<void>;
}

const targets: Record<string, () => Promise<Target>> = {
  sqlite: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'integrator-ledger-'));
    const connector = await sqliteConnectorType.create({ path: 'ledger.db' }, connectorContext(dir));
    return { connector, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
  postgres: async () => {
    const db = await createPgDatabase('ledger');
    const connector = await postgresConnectorType.create(
      { url: db.url, poolSize: 4 },
      connectorContext('/tmp'),
    );
    return { connector, drop: db.drop };
  },
  mariadb: async () => {
    const db = await createMariaDatabase('ledger');
    const connector = await mysqlConnectorType.create({ url: db.url, poolSize: 4 }, connectorContext('/tmp'));
    return { connector, drop: db.drop };
  },
};

for (const [name, open] of Object.entries(targets)) {
  describe(`commit ledger: ${name}`, () => {
    let t: Target;
    beforeAll(async () => {
      t = await open();
    });
    afterAll(async () => {
      await t.connector.close();
      await t.drop();
    });

    const spec = (table: string, runId: string, step = 0): DestinationSpec => ({
      table,
      mode: 'append',
      columns: COLUMNS,
      commit: { runId, step, attempt: 1 },
    });
    const count = async (table: string) => (await readRows(t.connector, { table })).length;

    it('records the run step with its rows, and refuses a second commit for it', async () => {
      expect(await t.connector.commits?.find('run-a', 0)).toBeUndefined();
      // A small write (one call's rows) and a large one (a COPY on PostgreSQL), into a new table and
      // into a known one.
      for (const [table, n] of [
        ['small_rows', 3],
        ['large_rows', 2_000],
      ] as const) {
        for (const run of [`${table}-1`, `${table}-2`]) {
          const w = await t.connector.writer(spec(table, run));
          await w.write(rows(run.endsWith('1') ? 0 : n, n));
          expect(await w.commit()).toEqual({ rowsWritten: n });
          expect(await t.connector.commits?.find(run, 0)).toMatchObject({ attempt: 1, rowsWritten: n });
        }
        const again = await t.connector.writer(spec(table, `${table}-2`));
        await again.write(rows(10_000, n));
        await expect(again.commit()).rejects.toThrow();
        expect(await count(table)).toBe(2 * n);
      }
    });

    it('records nothing for a write rolled back, and records an empty commit', async () => {
      const w = await t.connector.writer(spec('rolled_back', 'run-rb'));
      await w.write(rows(0, 2));
      await w.rollback();
      expect(await t.connector.commits?.find('run-rb', 0)).toBeUndefined();
      const empty = await t.connector.writer({ ...spec('never_made', 'run-empty', 1), columns: [] });
      expect(await empty.commit()).toEqual({ rowsWritten: 0 });
      expect(await t.connector.commits?.find('run-empty', 1)).toMatchObject({ rowsWritten: 0 });
    });

    it('records a byte-path load (copyIn) with its rows', async () => {
      const copyIn = t.connector.copyIn;
      if (!copyIn) {
        expect(name).toBe('sqlite');
        return;
      }
      const csv = () => Readable.from([Buffer.from('id,name\n1,a\n2,b\n')]);
      const s = spec('copied_rows', 'run-copy');
      expect(await copyIn.write(s, csv(), {}, undefined)).toEqual({ rowsWritten: 2 });
      expect(await t.connector.commits?.find('run-copy', 0)).toMatchObject({ rowsWritten: 2 });
      await expect(copyIn.write(s, csv(), {}, undefined)).rejects.toThrow();
      expect(await count('copied_rows')).toBe(2);
    });
  });
}
