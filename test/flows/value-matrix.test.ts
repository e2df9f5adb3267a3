/**
 * The cross-path value matrix: one set of values from every source kind (PostgreSQL, MariaDB and SQLite
 * tables, CSV, JSON, NDJSON and XML files, an HTTP API's answer, a listener body) to every destination
 * kind (the three databases, CSV, JSON, NDJSON and XML files, an HTTP API), on the row path and, where the two sides have one, the
 * byte path. What lands must equal what was sent, value for value, null and empty text apart.
 * (Numbers, decimals and timestamps: exact-values.test.ts; CSV corner cases: csv-conformance.test.ts.)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startTestApi, type TestApi } from '../connectors/http-test-api.js';
import { readAll, writeBytes } from '../formats/helpers.js';
import { createTestServer, putDefinition, type TestServer } from '../helpers/server.js';
import { createMariaDatabase, createPgDatabase } from '../services.js';

/** Texts that paths have been known to change: each must arrive as it left. */
const VALUES: (string | null)[] = [
  'plain',
  '',
  null,
  'NULL',
  '\\N',
  ' ',
  '  two spaces  ',
  'astral 😀 𝄞',
  'combining e\u0301 vs \u00e9',
  'line\nfeed',
  'carriage\r\nreturn',
  'lone\rcr',
  'tab\tseparated',
  'comma, "quoted"',
  "apostrophe's",
  'back\\slash \\n',
  '<xml>&amp;</xml>',
  '12345678901234567890.123456789',
  '007',
  '-0',
  'NaN',
  '2024-03-10T02:30:00-05:00',
  'true',
];
const ROWS = VALUES.map((v, i) => ({ id: String(i + 1), v }));

const SOURCES = ['pg', 'maria', 'lite', 'csv', 'json', 'ndjson', 'xml', 'http', 'listener'] as const;
const TARGETS = ['pg', 'maria', 'lite', 'csv', 'json', 'ndjson', 'xml', 'http'] as const;
type Source = (typeof SOURCES)[number];
type Target = (typeof TARGETS)[number];
const FILE_KINDS = new Set<string>(['csv', 'json', 'ndjson', 'xml']);

describe('value matrix: every source kind to every destination kind, both paths', () => {
  let s: TestServer;
  let admin: { authorization: string };
  let pgdb: Awaited<ReturnType<typeof createPgDatabase>>;
  let mdb: Awaited<ReturnType<typeof createMariaDatabase>>;
  let pool: pg.Pool;
  let maria: mysql.Connection;
  let api: TestApi;
  /** The bodies the HTTP destination sent, by flow name. */
  const received = new Map<string, Buffer[]>();
  const landed = new Map<string, { rows?: { id: string; v: unknown }[]; error?: string; path?: string }>();
  const dir = () => join(s.dataDir, 'files', 'matrix');

  const put = (kind: string, name: string, spec: object) => putDefinition(s, admin, kind, name, spec);
  const readTarget = async (target: Target, name: string): Promise<{ id: string; v: unknown }[]> => {
    let rows: Record<string, unknown>[];
    if (target === 'pg') rows = (await pool.query(`select * from ${name}`)).rows;
    else if (target === 'maria')
      rows = (await maria.query(`select * from ${name}`))[0] as Record<string, unknown>[];
    else if (target === 'http') {
      rows = [];
      for (const body of received.get(name) ?? []) rows.push(...(await readAll('json', body)));
    } else if (target === 'lite') {
      const db = new Database(join(dir(), 'lite.db'), { readonly: true });
      rows = db.prepare(`select * from ${name}`).all() as Record<string, unknown>[];
      db.close();
    } else rows = await readAll(target, await readFile(join(dir(), `${name}.${target}`)));
    return rows
      .map((r) => ({ id: String(r.id), v: r.v ?? null }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  };

  beforeAll(async () => {
    s = await createTestServer();
    admin = await s.login('admin', 'admin-password-1');
    pgdb = await createPgDatabase('matrix');
    mdb = await createMariaDatabase('matrix');
    pool = new pg.Pool({ connectionString: pgdb.url, max: 2 });
    maria = await mysql.createConnection({ uri: mdb.url, charset: 'utf8mb4' });
    await mkdir(dir(), { recursive: true });
    await put('connections', 'files', { type: 'files', root: 'files/matrix' });
    await put('connections', 'pg', { type: 'postgres', url: pgdb.url });
    await put('connections', 'maria', { type: 'mysql', url: mdb.url });
    await put('connections', 'lite', { type: 'sqlite', path: 'files/matrix/lite.db' });
    api = await startTestApi();
    await put('connections', 'api', { type: 'http', baseUrl: api.url });
    const answer = await writeBytes('json', ROWS);
    api.route('/src', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });

    // The sources, each holding ROWS.
    await pool.query('create table src (id integer primary key, v text)');
    await pool.query('insert into src select * from json_to_recordset($1) as x(id integer, v text)', [
      JSON.stringify(ROWS),
    ]);
    await maria.query(
      'create table src (id integer primary key, v text) character set utf8mb4 collate utf8mb4_bin',
    );
    await maria.query('insert into src (id, v) values ?', [ROWS.map((r) => [Number(r.id), r.v])]);
    const lite = new Database(join(dir(), 'lite.db'));
    lite.exec('create table src (id integer primary key, v text)');
    const ins = lite.prepare('insert into src (id, v) values (?, ?)');
    for (const r of ROWS) ins.run(Number(r.id), r.v);
    lite.close();
    for (const f of ['csv', 'json', 'ndjson', 'xml'])
      await writeFile(join(dir(), `src.${f}`), await writeBytes(f, ROWS));
    await put('flows', 'from-listener', {
      type: 'transfer',
      parameters: { target: { type: 'string' } },
      steps: [
        {
          from: { connection: '@request' },
          to: { connection: 'pg', table: 'from_listener', mode: 'replace' },
        },
      ],
    });

    const from = (source: Source) =>
      source === 'http'
        ? { connection: 'api', request: { path: 'src' } }
        : FILE_KINDS.has(source)
          ? { connection: 'files', file: `src.${source}` }
          : { connection: source, table: 'src' };
    const to = (target: Target, name: string) => {
      if (target === 'http') {
        // The API keeps each request's body, read back with the JSON reader.
        api.route(`/sink/${name}`, (req, res) => {
          received.set(name, [...(received.get(name) ?? []), Buffer.from(req.body)]);
          json(res, 201, {});
        });
        return { connection: 'api', request: { path: `sink/${name}`, batchSize: 10 } };
      }
      return FILE_KINDS.has(target)
        ? { connection: 'files', file: `${name}.${target}`, mode: 'replace' }
        : { connection: target, table: name, mode: 'replace' };
    };

    for (const source of SOURCES)
      for (const target of TARGETS)
        for (const path of ['byte', 'row'] as const) {
          const name = `m_${source}_${target}_${path}`;
          const step = {
            ...(path === 'row' ? { transforms: [{ type: 'filter', where: 'true' }] } : {}),
            to: to(target, name),
          };
          let runId: string;
          if (source === 'listener') {
            // A listener body: the caller's JSON, into the destination.
            await put('flows', name, {
              type: 'transfer',
              steps: [{ from: { connection: '@request' }, ...step }],
            });
            await put('listeners', name, { path: `matrix/${name}`, flow: name });
            const res = await s.app.inject({
              method: 'POST',
              url: `/rest/v1/httplistener/matrix/${name}`,
              headers: { ...admin, 'content-type': 'application/json' },
              payload: JSON.stringify(ROWS),
            });
            runId = res.json<{ runId: string }>().runId;
          } else {
            await put('flows', name, { type: 'transfer', steps: [{ from: from(source), ...step }] });
            const res = await s.app.inject({
              method: 'POST',
              url: `/rest/v1/flows/flow-name/${name}/run`,
              headers: admin,
            });
            runId = res.json<{ runId: string }>().runId;
          }
          const run = (await s.app.inject({ url: `/rest/v1/runs/${runId}`, headers: admin })).json<{
            status: string;
            error: string | null;
            steps: { path?: string }[];
          }>();
          const stepPath = run.steps[0]?.path;
          landed.set(
            name,
            run.status === 'succeeded'
              ? { rows: await readTarget(target, name), ...(stepPath ? { path: stepPath } : {}) }
              : { error: run.error ?? run.status },
          );
        }
  }, 600_000);
  afterAll(async () => {
    await pool?.end();
    await maria?.end();
    await api?.close();
    await s?.close();
    await pgdb?.drop();
    await mdb?.drop();
  });

  const want = ROWS.map((r) => ({ id: r.id, v: r.v }));
  for (const source of SOURCES)
    it(`from ${source}: every destination gets every value exactly, on both paths`, () => {
      for (const target of TARGETS)
        for (const path of ['byte', 'row'] as const) {
          const got = landed.get(`m_${source}_${target}_${path}`);
          expect(got?.error, `${source} -> ${target} (${path})`).toBeUndefined();
          expect(got?.rows, `${source} -> ${target} (${path})`).toEqual(want);
          // A step without transforms takes the byte path wherever both sides have one.
          if (path === 'row') expect(got?.path ?? 'rows', `${source} -> ${target} (row)`).toBe('rows');
        }
    });

  it('takes the byte path between PostgreSQL, MariaDB and CSV files wherever it applies', () => {
    for (const [source, target] of [
      ['pg', 'pg'],
      ['pg', 'maria'],
      ['pg', 'csv'],
      ['csv', 'pg'],
      ['csv', 'maria'],
    ] as const)
      expect(landed.get(`m_${source}_${target}_byte`)?.path, `${source} -> ${target}`).toBe('copy');
  });
});
