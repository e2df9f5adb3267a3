import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { mysqlConnectorType } from '../../src/connectors/mysql/mysql-type.js';
import { readAll, writeBytes } from '../formats/helpers.js';
import { connectorContext } from '../helpers/connector-context.js';
import { createMariaDatabase } from '../services.js';
import { describeConnectorConformance, readRows } from './conformance.js';

describeConnectorConformance('mysql (MariaDB)', async () => {
  const db = await createMariaDatabase('myconf');
  const connector = await mysqlConnectorType.create({ url: db.url, poolSize: 4 }, connectorContext('/tmp'));
  return {
    connector,
    source: (table) => ({ table }),
    destination: (table, mode, columns, keys) => ({ table, mode, columns, ...(keys ? { keys } : {}) }),
    sql: (query, params) => ({ query, params }),
    // MariaDB's sequence engine streams its rows; a recursive CTE would be materialised first.
    endlessQuery: 'select seq as id, md5(seq) as name from seq_1_to_100000000',
    constraints: true,
    teardown: async () => {
      await connector.close();
      await db.drop();
    },
  };
});

describe('mysql connector specifics', () => {
  let connector: Connector;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await createMariaDatabase('myspec');
    drop = db.drop;
    connector = await mysqlConnectorType.create({ url: db.url }, connectorContext('/tmp'));
  });
  afterAll(async () => {
    await connector.close();
    await drop();
  });
  const csv = (s: string) => Readable.from([Buffer.from(s)]);
  const cols = [
    { name: 'id', type: 'integer' as const },
    { name: 'name', type: 'text' as const },
  ];

  it('copyIn loads CSV with LOAD DATA LOCAL, quotes and CRLF included', async () => {
    const r = await connector.copyIn?.write(
      { table: 'people', mode: 'append', columns: cols, keys: ['id'] },
      csv('id,name\r\n1,"Ann, ""A"""\r\n2,\r\n3,"multi\r\nline"\r\n'),
      {},
    );
    expect(r?.rowsWritten).toBe(3);
    expect(await readRows(connector, { table: 'people' })).toEqual([
      { id: 1, name: 'Ann, "A"' },
      { id: 2, name: null },
      { id: 3, name: 'multi\r\nline' },
    ]);
  });

  it('copyIn upserts, and fails whole on a bad value', async () => {
    await connector.copyIn?.write(
      { table: 'people', mode: 'upsert', keys: ['id'], columns: cols },
      csv('name,id\nB,2\nD,4\n'),
      {},
    );
    expect((await readRows(connector, { table: 'people' })).map((r) => r.name)).toEqual([
      'Ann, "A"',
      'B',
      'multi\r\nline',
      'D',
    ]);
    await expect(
      connector.copyIn?.write(
        { table: 'people', mode: 'replace', columns: cols },
        csv('id,name\n5,x\nnotanumber,y\n'),
        {},
      ),
    ).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    expect((await readRows(connector, { table: 'people' })).length).toBe(4);
  });
});

describe('LOAD DATA reads what the CSV reader reads', () => {
  let connector: Connector;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await createMariaDatabase('myload');
    drop = db.drop;
    connector = await mysqlConnectorType.create({ url: db.url }, connectorContext('/tmp'));
  });
  afterAll(async () => {
    await connector.close();
    await drop();
  });

  it('lands any rows the CSV writer writes exactly as the reader reads them back', async () => {
    const text = fc.oneof(
      fc.constantFrom('', ' ', 'NULL', '\\N', '\\', 'a\\nb', '"', '""', ',', '\r\n', '\n', 'x\ry', 'é😀'),
      fc.string({ maxLength: 6 }).filter((s) => !s.includes('\0')),
    );
    const value = fc.option(text, { nil: null, freq: 4 });
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(value, value), { minLength: 1, maxLength: 12 }),
        fc.constantFrom('"', '\\'),
        fc.constantFrom('\n', '\r\n'),
        async (pairs, escapeChar, recordDelimiter) => {
          const options = { escape: escapeChar, recordDelimiter };
          const rows = pairs.map(([a, b], id) => ({ id: String(id), a, b }));
          const bytes = await writeBytes('csv', rows, options);
          const expected = await readAll('csv', bytes, options);
          const table = `t${round++}`;
          await connector.copyIn?.write({ table, mode: 'replace', columns: [] }, Readable.from([bytes]), {
            delimiter: ',',
            quote: '"',
            escape: escapeChar,
            nullValue: '',
            header: true,
          });
          const got = await readRows(connector, {
            query: `select * from ${table} order by cast(id as unsigned)`,
            params: {},
          });
          expect(got, JSON.stringify(bytes.toString())).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});
