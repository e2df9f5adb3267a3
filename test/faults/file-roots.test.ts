/**
 * An editor (and an admin) trying to reach what no connection may: the metadata store, the server
 * secret, folders outside INTEGRATOR_FILE_ROOTS, through `..`, symlinks and SQL ATTACH. Against a real
 * `integrator start` process whose file roots are a folder that contains the data directory, plus the
 * default `files` in it. Each test fails when the escalation works.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ServerProcess, startProcess } from '../helpers/processes.js';

const PASSWORD = 'admin-roots-pass-1';
const parent = mkdtempSync(join(tmpdir(), 'integrator-roots-'));
const dataDir = join(parent, 'data');
const files = join(dataDir, 'files');
let proc: ServerProcess;
type Call = <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: T }>;
let admin: Call;
let editor: Call;
const editorLogin = 'mallory';

function clientFor(token: string): Call {
  return async <T>(method: string, path: string, body?: unknown) => {
    const r = await fetch(`${proc.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

type ErrorBody = { error: { code: string; message: string; details?: { path: string }[] } };
type RunBody = { status: number; exception?: string };

/** The stolen copy, if a run wrote one: it must never hold a byte of the secret or the store. */
function expectNothingStolen(): void {
  let copy: Buffer;
  try {
    copy = readFileSync(join(files, 'stolen.csv'));
  } catch {
    return;
  }
  const secret = readFileSync(join(dataDir, 'secret.key'), 'utf8').trim();
  expect(copy.toString('utf8')).not.toContain(secret.slice(0, 16));
  expect(copy.toString('latin1')).not.toContain('SQLite format 3');
}

const run = async (as: Call, flow: string): Promise<RunBody> => {
  const res = await as<RunBody>('POST', `/rest/v1/flows/flow-name/${flow}/run`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

const copyFlow = (connection: string, file: string) => ({
  type: 'transfer',
  steps: [
    {
      from: { connection, file, format: { type: 'csv' } },
      to: { connection: 'out', file: 'stolen.csv', mode: 'replace' },
    },
  ],
});

beforeAll(async () => {
  mkdirSync(files, { recursive: true });
  mkdirSync(join(files, 'later'));
  writeFileSync(join(files, 'later', 'ok.csv'), 'a\n1\n');
  proc = await startProcess(
    'all',
    { INTEGRATOR_ADMIN_PASSWORD: PASSWORD, INTEGRATOR_FILE_ROOTS: `${parent}:${files}` },
    dataDir,
  );
  ({ call: admin } = await apiClient(proc.url, PASSWORD));
  const created = await admin('POST', '/rest/v1/users', {
    login: editorLogin,
    password: 'editor-pass-123',
    role: 'editor',
  });
  expect(created.status).toBe(201);
  const login = await fetch(`${proc.url}/rest/v1/token-auth/issue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: editorLogin, password: 'editor-pass-123' }),
  });
  editor = clientFor(((await login.json()) as { token: string }).token);
  expect((await editor('PUT', '/rest/v1/connections/out', { type: 'files', root: 'files' })).status).toBe(
    201,
  );
}, 60_000);

afterAll(async () => {
  await proc?.kill('SIGTERM');
  rmSync(parent, { recursive: true, force: true });
});

async function editorRole(): Promise<string> {
  const me = await editor<{ role: string }>('GET', '/rest/v1/me');
  return me.body.role;
}

describe('connections reach only what the administrator allows', { timeout: 60_000 }, () => {
  it('refuses a SQLite connection to the metadata store, for an editor and for an admin', async () => {
    for (const path of ['integrator.db', join(dataDir, 'integrator.db'), 'integrator.db-wal', 'secret.key']) {
      for (const [who, as] of [
        ['editor', editor],
        ['admin', admin],
      ] as const) {
        const res = await as<ErrorBody>('PUT', '/rest/v1/connections/meta', { type: 'sqlite', path });
        expect(res.status, `${who} ${path}`).toBe(422);
        expect(res.body.error.code).toBe('PATH_NOT_ALLOWED');
        expect(res.body.error.details?.[0]?.path).toBe('/path');
      }
    }
    expect((await admin('GET', '/rest/v1/connections/meta')).status).toBe(404);
  });

  it('refuses a files connection on /etc for an editor (422 naming /root); the data directory for everybody', async () => {
    const etc = await editor<ErrorBody>('PUT', '/rest/v1/connections/etc', { type: 'files', root: '/etc' });
    expect(etc.status).toBe(422);
    expect(etc.body.error).toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    expect(etc.body.error.details?.[0]?.path).toBe('/root');
    expect(etc.body.error.message).toContain('outside the file roots');
    for (const as of [editor, admin]) {
      for (const root of ['.', dataDir]) {
        const res = await as<ErrorBody>('PUT', '/rest/v1/connections/dd', { type: 'files', root });
        expect(res.status, root).toBe(422);
        expect(res.body.error.message).toContain("data directory's own files");
      }
    }
  });

  it('a root that contains the data directory still keeps its internals out of reach', async () => {
    // `parent` is a file root and holds the data directory: the editor may use it, but not data/.
    expect((await editor('PUT', '/rest/v1/connections/wide', { type: 'files', root: parent })).status).toBe(
      201,
    );
    for (const file of ['data/secret.key', 'data/integrator.db', 'data/integrator.db-wal']) {
      expect((await editor('PUT', '/rest/v1/flows/steal', copyFlow('wide', file))).status).toBeLessThan(300);
      const r = await run(editor, 'steal');
      expect(r.status, file).toBe(1);
      expect(r.exception, file).toMatch(/data directory's own files|does not exist/);
    }
    // A wildcard matches none of them: they are not there for a connection.
    for (const file of ['data/*.key', 'data/*', '*/secret.key']) {
      await editor('PUT', '/rest/v1/flows/steal', copyFlow('wide', file));
      await run(editor, 'steal');
      expectNothingStolen();
    }
    const tables = await editor<{ name: string }[]>('GET', '/rest/v1/connections/wide/tables');
    expect(tables.status).toBe(200);
    const names = tables.body.map((t) => t.name);
    expect(names.some((n) => n.startsWith('data/') && !n.startsWith('data/files/'))).toBe(false);
    expect(readFileSync(join(dataDir, 'secret.key')).length).toBeGreaterThan(0);
  });

  it('refuses ../ and absolute file names in a flow, and symlinks out of a root at use', async () => {
    symlinkSync('/etc/passwd', join(files, 'passwd.csv'));
    symlinkSync(join(dataDir, 'secret.key'), join(files, 'key.csv'));
    symlinkSync('/etc', join(files, 'etc'));
    for (const file of ['../secret.key', '/etc/passwd', 'passwd.csv', 'key.csv', 'etc/passwd']) {
      await editor('PUT', '/rest/v1/flows/steal', copyFlow('out', file));
      const r = await run(editor, 'steal');
      expect(r.status, file).toBe(1);
      expect(r.exception, file).toMatch(/outside|data directory's own files|absolute|'\.\.'/);
    }
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
  });

  it('refuses a folder that became a symlink out of the roots after the connection was saved', async () => {
    await editor('PUT', '/rest/v1/connections/later', { type: 'files', root: 'files/later' });
    await editor('PUT', '/rest/v1/flows/later-read', copyFlow('later', 'ok.csv'));
    expect((await run(editor, 'later-read')).status).toBe(0);
    rmSync(join(files, 'later'), { recursive: true });
    symlinkSync('/etc', join(files, 'later'));
    await editor('PUT', '/rest/v1/flows/later-read', copyFlow('later', 'passwd'));
    const r = await run(editor, 'later-read');
    expect(r.status).toBe(1);
    expect(r.exception).toContain('outside the file roots');
  });

  it('refuses a SQLite database replaced by a symlink to the store at use, and SQL that ATTACHes it', async () => {
    const promote = `update users set role = 'admin' where login = '${editorLogin}'`;
    expect(
      (await editor('PUT', '/rest/v1/connections/late', { type: 'sqlite', path: 'files/late.db' })).status,
    ).toBe(201);
    symlinkSync(join(dataDir, 'integrator.db'), join(files, 'late.db'));
    await editor('PUT', '/rest/v1/flows/promote', { type: 'sql', connection: 'late', sql: promote });
    const viaLink = await run(editor, 'promote');
    expect(viaLink.status).toBe(1);
    expect(viaLink.exception).toContain("data directory's own files");
    // Testing and listing the connection refuse it the same way, and the server stays up.
    const tested = await editor<{ ok: boolean; message: string }>('POST', '/rest/v1/connections/late/test');
    expect(tested.body).toMatchObject({ ok: false });
    expect(tested.body.message).toContain("data directory's own files");
    const listed = await editor<ErrorBody>('GET', '/rest/v1/connections/late/tables');
    expect(listed.status).toBe(422);
    expect(listed.body.error.code).toBe('PATH_NOT_ALLOWED');
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);

    await editor('PUT', '/rest/v1/connections/mine', { type: 'sqlite', path: 'files/mine.db' });
    for (const sql of [
      `attach database '${join(dataDir, 'integrator.db')}' as meta; ${promote.replace('users', 'meta.users')}`,
      `commit; attach database '${join(dataDir, 'integrator.db')}' as meta; begin; ${promote.replace('users', 'meta.users')}`,
    ]) {
      await editor('PUT', '/rest/v1/flows/attach', { type: 'sql', connection: 'mine', sql });
      const r = await run(editor, 'attach');
      expect(r.status, sql).toBe(1);
      expect(r.exception, sql).toMatch(/ATTACH .* is refused|ends it/);
    }
    expect(await editorRole()).toBe('editor');
  });

  it('lets only an admin define or change a listener with auth none (403, audited)', async () => {
    await editor('PUT', '/rest/v1/flows/noop', { type: 'sql', connection: 'mine', sql: 'select 1' });
    const open = { path: 'open/x', methods: ['POST'], flow: 'noop', auth: 'none' };
    const refused = await editor<ErrorBody>('PUT', '/rest/v1/listeners/open', open);
    expect(refused.status).toBe(403);
    expect(refused.body.error.details?.[0]?.path).toBe('/auth');
    const applied = await fetch(`${proc.url}/rest/v1/apply`, {
      method: 'POST',
      headers: {
        authorization: (await editorHeader()).authorization,
        'content-type': 'application/yaml',
      },
      body: 'kind: listener\nname: open\npath: open/x\nmethods: [POST]\nflow: noop\nauth: none\n',
    });
    expect(applied.status).toBe(403);
    expect((await admin('GET', '/rest/v1/listeners/open')).status).toBe(404);
    expect((await admin('PUT', '/rest/v1/listeners/open', open)).status).toBe(201);
    const change = await editor('PUT', '/rest/v1/listeners/open', { ...open, description: 'mine now' });
    expect(change.status).toBe(403);
    const audit = await admin<{ events: { action: string; outcome: string; actor: string }[] }>(
      'GET',
      '/rest/v1/audit',
    );
    const denied = audit.body.events.filter(
      (e) =>
        e.actor === editorLogin &&
        e.outcome === 'denied' &&
        /listener\.saved|project\.applied/.test(e.action),
    );
    expect(denied.length).toBeGreaterThanOrEqual(3);
  });

  it('an admin may go outside the roots, but never reaches secret.key or integrator.db', async () => {
    expect((await admin('PUT', '/rest/v1/connections/everything', { type: 'files', root: '/' })).status).toBe(
      201,
    );
    const rel = dataDir.slice(1);
    for (const file of [`${rel}/secret.key`, `${rel}/integrator.db`, `${rel}/*.db`, `${rel}/*`]) {
      await admin('PUT', '/rest/v1/flows/admin-steal', copyFlow('everything', file));
      const r = await run(admin, 'admin-steal');
      if (!file.includes('*')) expect(r.status, file).toBe(1);
      expectNothingStolen();
    }
    // An editor cannot re-point the admin's connection elsewhere outside the roots, nor keep it there.
    const edit = await editor<ErrorBody>('PUT', '/rest/v1/connections/everything', {
      type: 'files',
      root: '/',
      description: 'edited',
    });
    expect(edit.status).toBe(422);
    expect(edit.body.error.details?.[0]?.path).toBe('/root');
    const sql = `attach database '${join(dataDir, 'integrator.db')}' as meta; select 1`;
    await admin('PUT', '/rest/v1/flows/admin-attach', { type: 'sql', connection: 'mine', sql });
    expect((await run(admin, 'admin-attach')).status).toBe(1);
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
  });

  it('checks the files a PostgreSQL URL names (sslrootcert, sslcert, sslkey) like any other path', async () => {
    const pgUrl = (query: string) => `postgres://postgres@127.0.0.1:5432/test?application_name=x&${query}`;
    for (const as of [editor, admin]) {
      for (const query of [
        `sslrootcert=${join(dataDir, 'secret.key')}`,
        `sslmode=require&sslkey=${encodeURIComponent(join(dataDir, 'integrator.db'))}`,
        'sslcert=secret.key',
      ]) {
        const res = await as<ErrorBody>('PUT', '/rest/v1/connections/tls', {
          type: 'postgres',
          url: pgUrl(query),
        });
        expect(res.status, query).toBe(422);
        expect(res.body.error.code).toBe('PATH_NOT_ALLOWED');
        expect(res.body.error.details?.[0]?.path).toBe('/url');
      }
    }
    const outside = await editor<ErrorBody>('PUT', '/rest/v1/connections/tls', {
      type: 'postgres',
      url: pgUrl('sslrootcert=/etc/hostname'),
    });
    expect(outside.status).toBe(422);
    expect(outside.body.error.message).toContain('outside the file roots');

    // A CA inside the roots is read by the connector: the TLS request reaches the server, which has
    // TLS off here. Swapped for a link to the server's secret after saving, it is refused at use.
    writeFileSync(join(files, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(
      (
        await editor('PUT', '/rest/v1/connections/tls', {
          type: 'postgres',
          url: pgUrl('sslrootcert=files/ca.pem'),
        })
      ).status,
    ).toBe(201);
    const tried = await editor<{ ok: boolean; message: string }>('POST', '/rest/v1/connections/tls/test');
    expect(tried.body.ok).toBe(false);
    expect(tried.body.message).not.toMatch(/file roots|own files/);
    // Pointing at a link to the server's secret is refused when saved; a file swapped for one after
    // saving is refused when the connection opens.
    symlinkSync(join(dataDir, 'secret.key'), join(files, 'key.pem'));
    const linked = await admin<ErrorBody>('PUT', '/rest/v1/connections/tls', {
      type: 'postgres',
      url: pgUrl('sslrootcert=files/key.pem'),
    });
    expect(linked.status).toBe(422);
    expect(linked.body.error.message).toContain("data directory's own files");
    writeFileSync(join(files, 'ca2.pem'), readFileSync(join(files, 'ca.pem')));
    const url = pgUrl('sslrootcert=files/ca2.pem');
    expect((await editor('PUT', '/rest/v1/connections/tls2', { type: 'postgres', url })).status).toBe(201);
    rmSync(join(files, 'ca2.pem'));
    symlinkSync(join(dataDir, 'secret.key'), join(files, 'ca2.pem'));
    const swapped = await editor<{ ok: boolean; message: string }>('POST', '/rest/v1/connections/tls2/test');
    expect(swapped.body).toMatchObject({ ok: false });
    expect(swapped.body.message).toContain("data directory's own files");
    expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
  });
});

async function editorHeader(): Promise<{ authorization: string }> {
  const login = await fetch(`${proc.url}/rest/v1/token-auth/issue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: editorLogin, password: 'editor-pass-123' }),
  });
  return { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };
}
