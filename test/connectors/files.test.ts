import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { filesConnector } from '../../src/connectors/files/index.js';
import type { Row } from '../../src/core/records.js';
import type { FormatType } from '../../src/formats/format.js';
import { connectorContext } from '../helpers/connector-context.js';

let dataDir: string;
let outside: string;
let files: Connector;

async function readRows(
  file: string,
  type: FormatType,
  options: Record<string, unknown> = {},
): Promise<Row[]> {
  const { batches } = await files.read({ file, format: { type, options } });
  const rows: Row[] = [];
  for await (const b of batches) rows.push(...b);
  return rows;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'files-conn-'));
  outside = await mkdtemp(path.join(tmpdir(), 'files-outside-'));
  await writeFile(path.join(outside, 'secret.csv'), 'x\nsecret\n');
  await mkdir(path.join(dataDir, 'inbox', 'in'), { recursive: true });
  await writeFile(path.join(dataDir, 'inbox', 'orders-2.csv'), 'id,n\n3,c\n');
  await writeFile(path.join(dataDir, 'inbox', 'orders-1.csv'), 'id,n\n1,a\n2,b\n');
  await writeFile(path.join(dataDir, 'inbox', 'in', '2024-01.json'), '[{"a":1}]');
  await writeFile(path.join(dataDir, 'inbox', 'in', '2024-02.json'), '[{"a":2}]');
  await writeFile(path.join(dataDir, 'inbox', 'bad.csv'), 'a,b\n1\n');
  await symlink(path.join(outside, 'secret.csv'), path.join(dataDir, 'inbox', 'link.csv'));
  await symlink(outside, path.join(dataDir, 'inbox', 'escape'));
  files = filesConnector.create({ root: 'inbox' }, connectorContext(dataDir));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('files connector', () => {
  it('checks the folder', async () => {
    await files.check();
    await expect(
      filesConnector.create({ root: 'missing' }, connectorContext(dataDir)).check(),
    ).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
    });
  });

  it('reads wildcard matches in name order, each named in errors', async () => {
    expect(await readRows('orders-*.csv', 'csv')).toEqual([
      { id: '1', n: 'a' },
      { id: '2', n: 'b' },
      { id: '3', n: 'c' },
    ]);
    expect(await readRows('in/2024-*.json', 'json')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(await readRows('nothing-*.csv', 'csv')).toEqual([]);
    await expect(readRows('bad.csv', 'csv')).rejects.toThrow(/bad\.csv line 2/);
    await expect(readRows('absent.csv', 'csv')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses traversal: absolute, .., NUL, symlinks out of the root', async () => {
    for (const bad of [
      '/etc/passwd',
      '../outside.csv',
      'in/../../x.csv',
      'a\\..\\..\\x.csv',
      'x\0.csv',
      'C:\\x.csv',
    ]) {
      await expect(readRows(bad, 'csv')).rejects.toMatchObject({ status: expect.any(Number) });
      await expect(readRows(bad, 'csv')).rejects.toThrow(/absolute|\.\.|NUL/);
    }
    await expect(readRows('link.csv', 'csv')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(readRows('escape/secret.csv', 'csv')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(readRows('l*.csv', 'csv')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const spec = {
      file: '../evil.csv',
      format: { type: 'csv' as const },
      mode: 'replace' as const,
      columns: [],
    };
    await expect(files.writer(spec)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(files.writer({ ...spec, file: 'escape/evil.csv' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(files.writer({ ...spec, file: 'link.csv' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await readdir(outside)).toEqual(['secret.csv']);
  });

  it('writes atomically: nothing visible before commit, rollback leaves no file', async () => {
    const spec = {
      file: 'out/new.csv',
      format: { type: 'csv' as const },
      mode: 'replace' as const,
      columns: [],
    };
    const w = await files.writer(spec);
    await w.write([{ a: 1, b: 'x' }]);
    await w.rollback();
    await expect(readFile(path.join(dataDir, 'inbox', 'out', 'new.csv'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(path.join(dataDir, 'inbox', 'out'))).toEqual([]);

    const w2 = await files.writer(spec);
    await w2.write([{ a: 1, b: 'x' }]);
    await w2.write([{ a: 2, b: null }]);
    expect(await w2.commit()).toEqual({ rowsWritten: 2 });
    expect(await readFile(path.join(dataDir, 'inbox', 'out', 'new.csv'), 'utf8')).toBe('a,b\n1,x\n2,\n');
    expect(await readdir(path.join(dataDir, 'inbox', 'out'))).toEqual(['new.csv']);
  });

  it('keeps the old file intact when a replace fails mid-stream', async () => {
    const target = path.join(dataDir, 'inbox', 'keep.json');
    await writeFile(target, '[{"old":true}]');
    const w = await files.writer({
      file: 'keep.json',
      format: { type: 'json' },
      mode: 'replace',
      columns: [],
    });
    await w.write([{ new: 1 }]);
    const cyclic: Row = {};
    cyclic['self'] = cyclic;
    await expect(
      (async () => {
        await w.write([cyclic]);
        await w.commit();
      })(),
    ).rejects.toThrow();
    await w.rollback();
    expect(await readFile(target, 'utf8')).toBe('[{"old":true}]');
    expect((await readdir(path.join(dataDir, 'inbox'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('appends CSV without a second header, and JSON by rewriting', async () => {
    await writeFile(path.join(dataDir, 'inbox', 'app.csv'), 'id,n\n1,a');
    const w = await files.writer({ file: 'app.csv', format: { type: 'csv' }, mode: 'append', columns: [] });
    await w.write([{ id: 2, n: 'b' }]);
    await w.commit();
    expect(await readFile(path.join(dataDir, 'inbox', 'app.csv'), 'utf8')).toBe('id,n\n1,a\n2,b\n');

    await writeFile(path.join(dataDir, 'inbox', 'app.json'), '[{"id":1}]');
    const j = await files.writer({ file: 'app.json', format: { type: 'json' }, mode: 'append', columns: [] });
    await j.write([{ id: 2 }]);
    await j.commit();
    expect(JSON.parse(await readFile(path.join(dataDir, 'inbox', 'app.json'), 'utf8'))).toEqual([
      { id: 1 },
      { id: 2 },
    ]);

    const n = await files.writer({
      file: 'fresh.ndjson',
      format: { type: 'ndjson' },
      mode: 'append',
      columns: [],
    });
    await n.write([{ id: 1 }]);
    await n.commit();
    expect(await readFile(path.join(dataDir, 'inbox', 'fresh.ndjson'), 'utf8')).toBe('{"id":1}\n');
  });

  it('refuses upsert, SQL and wildcard destinations', async () => {
    await expect(
      files.writer({ file: 'x.csv', format: { type: 'csv' }, mode: 'upsert', columns: [] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      files.writer({ file: 'x-*.csv', format: { type: 'csv' }, mode: 'replace', columns: [] }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(files.execute('select 1', {})).rejects.toThrow(/no SQL/);
  });

  it('discovers files with their format and first-record columns', async () => {
    const tables = await files.discover();
    const orders = tables.find((t) => t.name === 'orders-1.csv');
    expect(orders).toMatchObject({
      format: 'csv',
      columns: [
        { name: 'id', type: 'text' },
        { name: 'n', type: 'text' },
      ],
    });
    expect(tables.find((t) => t.name === 'in/2024-01.json')).toMatchObject({
      columns: [{ name: 'a', type: 'integer' }],
    });
  });
});
