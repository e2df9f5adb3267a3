import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteConnectorType } from '../../src/connectors/sqlite/sqlite-connector.js';
import { connectorContext } from '../helpers/connector-context.js';
import { describeConnectorConformance, readRows, writeRows } from './conformance.js';

describeConnectorConformance('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'integrator-sqlite-'));
  const connector = sqliteConnectorType.create({ path: 'conformance.db' }, connectorContext(dir));
  return {
    connector,
    source: (table) => ({ table }),
    destination: (table, mode, columns, keys) => ({ table, mode, columns, ...(keys ? { keys } : {}) }),
    sql: (query, params) => ({ query, params }),
    endlessQuery:
      'with recursive s(id) as (select 1 union all select id + 1 from s where id < 100000000) select id, hex(id) as name from s',
    constraints: true,
    teardown: async () => {
      await connector.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite connector specifics', () => {
  it('resolves a relative path against the data directory and rejects a bad config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'integrator-sqlite-'));
    try {
      const c = sqliteConnectorType.create({ path: 'sub.db' }, connectorContext(dir));
      await writeRows(c, { table: 't', mode: 'append', columns: [{ name: 'id', type: 'integer' }] }, [
        [{ id: 1 }],
      ]);
      const abs = sqliteConnectorType.create({ path: join(dir, 'sub.db') }, connectorContext('/nonexistent'));
      expect(await readRows(abs, { table: 't' })).toEqual([{ id: 1 }]);
      expect(() => sqliteConnectorType.create({ path: 7 }, connectorContext(dir))).toThrow(/path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sqlite writers in one process', () => {
  it('wait for each other without blocking the event loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'integrator-sqlite-'));
    const c = sqliteConnectorType.create({ path: 'shared.db' }, connectorContext(dir));
    try {
      const spec = {
        table: 't',
        mode: 'append' as const,
        columns: [{ name: 'id', type: 'integer' as const }],
      };
      const a = await c.writer(spec);
      await a.write([{ id: 1 }]);
      // b needs the write lock that a holds across an await.
      const started = Date.now();
      const b = c.writer(spec).then(async (w) => {
        await w.write([{ id: 2 }]);
        return w.commit();
      });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      await new Promise((r) => setTimeout(r, 100));
      await a.commit();
      await b;
      clearInterval(ticker);
      expect(ticks).toBeGreaterThan(5);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await readRows(c, { table: 't' })).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
