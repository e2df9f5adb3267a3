import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, CsvCopyOptions } from '../../src/connectors/connector.js';
import { fileCsvDialect } from '../../src/connectors/files/csv-fast-path.js';
import { CsvRecordCounter } from '../../src/connectors/files/csv-record-counter.js';
import { filesConnector } from '../../src/connectors/files/index.js';
import { postgresConnectorType } from '../../src/connectors/postgres/postgres-type.js';
import type { Row } from '../../src/core/records.js';
import { connectorContext } from '../helpers/connector-context.js';
import { createPgDatabase } from '../services.js';
import { readRows } from './conformance.js';

let dataDir: string;
let files: Connector;
let pgConn: Connector;
let dropPg: () => Promise<void>;

const DIALECT: CsvCopyOptions = {
  delimiter: ',',
  quote: '"',
  escape: '"',
  header: true,
  nullValue: '',
  encoding: 'utf8',
};
const at = (name: string) => path.join(dataDir, 'box', name);

async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}

async function readCsv(file: string): Promise<Row[]> {
  const { batches } = await files.read({ file, format: { type: 'csv' } });
  const rows: Row[] = [];
  for await (const b of batches) rows.push(...b);
  return rows;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'files-copy-'));
  await mkdir(path.join(dataDir, 'box'));
  files = filesConnector.create({ root: 'box' }, connectorContext(dataDir));
  const db = await createPgDatabase('filescopy');
  dropPg = db.drop;
  pgConn = await postgresConnectorType.create({ url: db.url }, connectorContext(dataDir));
});

afterAll(async () => {
  await pgConn.close();
  await dropPg();
  await rm(dataDir, { recursive: true, force: true });
});

describe('fileCsvDialect', () => {
  it('gives the dialect of a CSV file with a header', () => {
    expect(fileCsvDialect({ type: 'csv' })).toEqual(DIALECT);
    expect(
      fileCsvDialect({ type: 'csv', options: { delimiter: ';', nullValue: 'NULL', encoding: 'latin1' } }),
    ).toEqual({ ...DIALECT, delimiter: ';', nullValue: 'NULL', encoding: 'latin1' });
  });

  it('is undefined whenever reading through the format could change a value', () => {
    for (const options of [
      { header: false },
      { columns: ['a'] },
      { trim: true },
      { distinguishQuoted: false },
      { bogus: 1 },
    ]) {
      expect(fileCsvDialect({ type: 'csv', options })).toBeUndefined();
    }
    expect(fileCsvDialect({ type: 'json' })).toBeUndefined();
    expect(fileCsvDialect(undefined)).toBeUndefined();
  });
});

describe('CsvRecordCounter', () => {
  const count = (text: string, size = 3, quote = '"', esc = quote): number => {
    const c = new CsvRecordCounter(quote, esc);
    const buf = Buffer.from(text);
    for (let i = 0; i < buf.length; i += size) c.push(buf.subarray(i, i + size));
    return c.end();
  };

  it('counts line feeds outside quotes, across chunk boundaries', () => {
    for (const size of [1, 2, 3, 7, 1000]) {
      expect(count('a,b\n1,"x\ny"\n2,"say ""hi""\n\n"\n', size)).toBe(3);
      expect(count('a,b\r\n1,2\r\n\r\n3,4', size)).toBe(3);
      expect(count('a\n\n\n1\n', size)).toBe(2);
      expect(count("a\n'x\\'\n'\n2\n", size, "'", '\\')).toBe(3);
    }
    expect(count('')).toBe(0);
  });
});

describe('files byte fast paths', () => {
  it('copyOut of a CSV file pipes into PostgreSQL copyIn with nulls, "" and quoted newlines intact', async () => {
    const text = 'id,name,note\n1,"Ann, ""A""",\n2,"two\nlines",""\n3,,x\n';
    await writeFile(at('people.csv'), text);
    const out = await files.copyOut?.read({ file: 'people.csv', format: { type: 'csv' } }, DIALECT);
    expect(out?.columns).toEqual([
      { name: 'id', type: 'text', nullable: true },
      { name: 'name', type: 'text', nullable: true },
      { name: 'note', type: 'text', nullable: true },
    ]);
    const r = await pgConn.copyIn?.write(
      { table: 'people', mode: 'replace', columns: out!.columns },
      out!.bytes,
      DIALECT,
    );
    expect(r).toEqual({ rowsWritten: 3 });
    const rows = await readRows(pgConn, { query: 'select * from people order by id', params: {} });
    expect(rows).toEqual(await readCsv('people.csv'));
    expect(rows).toEqual([
      { id: '1', name: 'Ann, "A"', note: null },
      { id: '2', name: 'two\nlines', note: '' },
      { id: '3', name: null, note: 'x' },
    ]);
  });

  it('copyOut returns the bytes of the file, header included, without a byte order mark', async () => {
    await writeFile(at('raw.csv'), '\ufeffa;b\n1;"x"\n');
    const opts = { ...DIALECT, delimiter: ';' };
    const out = await files.copyOut?.read(
      { file: 'raw.csv', format: { type: 'csv', options: { delimiter: ';' } } },
      opts,
    );
    expect(out?.columns.map((c) => c.name)).toEqual(['a', 'b']);
    expect(await collect(out!.bytes)).toBe('a;b\n1;"x"\n');
  });

  it('PostgreSQL copyOut pipes into files copyIn; rows counted, values read back the same', async () => {
    await pgConn.execute(
      "create table src (id int, t text); insert into src values (1, null), (2, ''), (3, 'a\"b\nc'), (4, 'x,y')",
      {},
    );
    const out = await pgConn.copyOut?.read({ query: 'select * from src order by id' }, DIALECT);
    const spec = {
      file: 'out/src.csv',
      format: { type: 'csv' as const },
      mode: 'replace' as const,
      columns: [],
    };
    const r = await files.copyIn?.write(spec, out!.bytes, DIALECT);
    expect(r).toEqual({ rowsWritten: 4 });
    expect(await readCsv('out/src.csv')).toEqual([
      { id: '1', t: null },
      { id: '2', t: '' },
      { id: '3', t: 'a"b\nc' },
      { id: '4', t: 'x,y' },
    ]);
    expect((await readdir(path.join(dataDir, 'box', 'out'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('copyIn replaces atomically and appends only to a missing file', async () => {
    await writeFile(at('keep.csv'), 'a\nold\n');
    const spec = {
      file: 'keep.csv',
      format: { type: 'csv' as const },
      mode: 'replace' as const,
      columns: [],
    };
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a\nnew\n');
      throw new Error('source broke');
    }
    await expect(files.copyIn?.write(spec, failing(), DIALECT)).rejects.toThrow(/source broke/);
    expect(await readFile(at('keep.csv'), 'utf8')).toBe('a\nold\n');
    expect((await readdir(path.join(dataDir, 'box'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    expect(await files.copyIn?.write(spec, chunks('a\n"1\n2"\n3', 2), DIALECT)).toEqual({ rowsWritten: 2 });
    expect(await readFile(at('keep.csv'), 'utf8')).toBe('a\n"1\n2"\n3');

    await expect(
      files.copyIn?.write({ ...spec, mode: 'append' }, chunks('a\n1\n', 4), DIALECT),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(
      await files.copyIn?.write(
        { ...spec, file: 'new-append.csv', mode: 'append' },
        chunks('a\n1\n', 4),
        DIALECT,
      ),
    ).toEqual({ rowsWritten: 1 });
    await expect(
      files.copyIn?.write({ ...spec, mode: 'upsert' }, chunks('a\n', 4), DIALECT),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('copyIn stops on abort, leaving neither the target nor a temp file', async () => {
    const ac = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a\n1\n');
      ac.abort();
      await new Promise((r) => setTimeout(r, 20));
      yield Buffer.from('2\n');
    }
    const spec = {
      file: 'aborted.csv',
      format: { type: 'csv' as const },
      mode: 'replace' as const,
      columns: [],
    };
    await expect(files.copyIn?.write(spec, slow(), DIALECT, ac.signal)).rejects.toMatchObject({
      code: 'RUN_CANCELLED',
    });
    expect((await readdir(path.join(dataDir, 'box'))).filter((n) => n.includes('aborted'))).toEqual([]);
  });

  it('refuses the fast path for latin1, wildcards, JSON and a different dialect', async () => {
    await writeFile(at('l1.csv'), Buffer.from('n\né\n', 'latin1'));
    const refused = { code: 'BAD_REQUEST', message: expect.stringMatching(/fast path/) };
    await expect(
      files.copyOut?.read(
        { file: 'l1.csv', format: { type: 'csv', options: { encoding: 'latin1' } } },
        DIALECT,
      ),
    ).rejects.toMatchObject(refused);
    await expect(
      files.copyOut?.read({ file: '*.csv', format: { type: 'csv' } }, DIALECT),
    ).rejects.toMatchObject(refused);
    await writeFile(at('x.json'), '[{"a":1}]');
    await expect(
      files.copyOut?.read({ file: 'x.json', format: { type: 'json' } }, DIALECT),
    ).rejects.toMatchObject(refused);
    await expect(
      files.copyOut?.read({ file: 'people.csv', format: { type: 'csv' } }, { ...DIALECT, delimiter: ';' }),
    ).rejects.toMatchObject(refused);
    const dest = { file: 'o.json', format: { type: 'json' as const }, mode: 'replace' as const, columns: [] };
    await expect(files.copyIn?.write(dest, chunks('a\n1\n', 4), DIALECT)).rejects.toMatchObject(refused);
    await expect(
      files.copyIn?.write(
        { ...dest, file: 'o.csv', format: { type: 'csv', options: { encoding: 'latin1' } } },
        chunks('a\n1\n', 4),
        DIALECT,
      ),
    ).rejects.toMatchObject(refused);
    await expect(
      files.copyOut?.read({ file: 'absent.csv', format: { type: 'csv' } }, DIALECT),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});
