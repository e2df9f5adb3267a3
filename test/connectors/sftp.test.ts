/**
 * The sftp connector against a real OpenSSH server (test/helpers/sshd.ts): authentication, host-key
 * pinning, the files connector's behaviour over SFTP, path confinement, and connections dropped for
 * real (the server's session processes killed with SIGKILL) in the middle of a transfer.
 */
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { sftpConnectorType } from '../../src/connectors/sftp/sftp-type.js';
import type { Row } from '../../src/core/records.js';
import { connectorContext } from '../helpers/connector-context.js';
import { type SshServer, startSshd } from '../helpers/sshd.js';
import { readAll, writeRows } from './conformance.js';

let s: SshServer;
let root: string;
let sftp: Connector;

function open(settings: Record<string, unknown> = {}): Promise<Connector> {
  return Promise.resolve(
    sftpConnectorType.create(
      {
        host: s.host,
        port: s.port,
        username: s.username,
        privateKey: s.privateKey,
        hostKey: s.hostKey,
        root,
        ...settings,
      },
      connectorContext(s.dir),
    ),
  );
}

async function rowsOf(c: Connector, file: string, type: string, options = {}): Promise<Row[]> {
  return (await readAll(c, { file, format: { type, options } })).flat();
}

const dest = (file: string, type: string, mode: 'append' | 'replace' | 'upsert' = 'replace') => ({
  file,
  format: { type },
  mode,
  columns: [],
});

beforeAll(async () => {
  s = await startSshd();
  root = path.join(s.dir, 'root');
  await mkdir(path.join(root, 'in'), { recursive: true });
  await writeFile(path.join(root, 'orders-2.csv'), 'id,n\n3,c\n');
  await writeFile(path.join(root, 'orders-1.csv'), 'id,n\n1,a\n2,b\n');
  await writeFile(path.join(root, 'other.csv'), 'id,n\n9,z\n');
  await writeFile(path.join(root, 'in', '2024-01.json'), '[{"a":1}]');
  await writeFile(path.join(root, 'in', '2024-02.json'), '[{"a":2}]');
  await writeFile(path.join(s.dir, 'secret.csv'), 'x\nsecret\n');
  await symlink(path.join(s.dir, 'secret.csv'), path.join(root, 'link.csv'));
  await symlink(s.dir, path.join(root, 'escape'));
  sftp = await open();
});

afterAll(async () => {
  await s?.stop();
});

describe('sftp connector: connecting', () => {
  it('check() connects and lists the root; a missing root is CONNECTION_FAILED naming it', async () => {
    await expect(sftp.check()).resolves.toBeUndefined();
    const missing = await open({ root: path.join(s.dir, 'nowhere') });
    await expect(missing.check()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/nowhere.*does not exist/),
    });
  });

  it('authenticates with a password (a user of its own)', async () => {
    const user = s.passwordUser();
    const c = await open({
      username: user.username,
      password: user.password,
      privateKey: undefined,
      root: '.',
    });
    await c.check();
    await writeRows(c, dest('mine.csv', 'csv'), [[{ id: 1 }]]);
    expect(await readFile(path.join(user.home, 'mine.csv'), 'utf8')).toBe('id\n1\n');
    const wrong = await open({
      username: user.username,
      password: 'not-it',
      privateKey: undefined,
      root: '.',
    });
    await expect(wrong.check()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/refused the password/),
    });
  });

  it('authenticates with a private key protected by a passphrase, and says when the passphrase is wrong', async () => {
    const c = await open({ privateKey: s.lockedKey, passphrase: s.passphrase });
    await expect(c.check()).resolves.toBeUndefined();
    const noPhrase = await open({ privateKey: s.lockedKey });
    await expect(noPhrase.check()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/privateKey cannot be used.*passphrase/),
    });
    const wrongPhrase = await open({ privateKey: s.lockedKey, passphrase: 'wrong' });
    await expect(wrongPhrase.check()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
  });

  it('refuses a key the server does not know', async () => {
    const c = await open({ username: 'nobody-here' });
    await expect(c.check()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/refused the private key/),
    });
  });

  it('connects when the host key matches the pin, refuses another key naming both, accepts any without a pin', async () => {
    await expect((await open({ hostKey: s.hostKey })).check()).resolves.toBeUndefined();
    const err = await (await open({ hostKey: s.otherHostKey })).check().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED' });
    const message = (err as Error).message;
    expect(message).toContain(s.hostKey);
    expect(message).toContain(s.otherHostKey);
    expect(message).toMatch(/refusing to connect/);
    await expect((await open({ hostKey: undefined })).check()).resolves.toBeUndefined();
  });

  it('an unreachable server fails with CONNECTION_FAILED naming it', async () => {
    const c = await open({ port: 1 });
    await expect(c.check()).rejects.toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/127\.0\.0\.1:1/),
    });
  });

  it('a server that accepts but never answers fails after connectTimeout, naming it', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const c = await open({ port, connectTimeout: 1 });
      const started = Date.now();
      await expect(c.check()).rejects.toMatchObject({
        code: 'CONNECTION_FAILED',
        message: expect.stringMatching(/timed out after 1 s/),
      });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.close();
    }
  });

  it('refuses a connection without a password or key, naming the field', async () => {
    const opening = (async () =>
      sftpConnectorType.create({ host: s.host, username: 'x' }, connectorContext(s.dir)))();
    await expect(opening).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(/\/password or \/privateKey/),
    });
  });
});

describe('sftp connector: files', () => {
  it('reads wildcard matches in name order, in subfolders too', async () => {
    expect(await rowsOf(sftp, 'orders-*.csv', 'csv')).toEqual([
      { id: '1', n: 'a' },
      { id: '2', n: 'b' },
      { id: '3', n: 'c' },
    ]);
    expect(await rowsOf(sftp, 'in/2024-*.json', 'json')).toEqual([{ a: 1 }, { a: 2 }]);
    expect(await rowsOf(sftp, 'none-*.csv', 'csv')).toEqual([]);
  });

  it('a missing file is NOT_FOUND naming it', async () => {
    await expect(rowsOf(sftp, 'missing.csv', 'csv')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/'missing\.csv'/),
    });
  });

  it('round-trips every format: CSV, JSON, NDJSON and XML', async () => {
    const rows = [
      { id: '1', name: 'Ada, "the first"', note: 'line\nbreak' },
      { id: '2', name: 'ünïcødé 🚀', note: '<tag> & more' },
    ];
    for (const type of ['csv', 'json', 'ndjson', 'xml']) {
      const file = `formats/all.${type}`;
      expect(await writeRows(sftp, dest(file, type), [rows.slice(0, 1), rows.slice(1)])).toBe(2);
      expect(await rowsOf(sftp, file, type), type).toEqual(rows);
    }
    expect(await readFile(path.join(root, 'formats', 'all.csv'), 'utf8')).toMatch(/^id,name,note\n/);
  });

  it('append adds lines to CSV (no second header) and NDJSON, and rewrites JSON and XML', async () => {
    for (const type of ['csv', 'ndjson', 'json', 'xml']) {
      const file = `append/a.${type}`;
      await writeRows(sftp, dest(file, type, 'append'), [[{ id: '1' }]]);
      await writeRows(sftp, dest(file, type, 'append'), [[{ id: '2' }], [{ id: '3' }]]);
      expect(await rowsOf(sftp, file, type), type).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }]);
    }
    expect(await readFile(path.join(root, 'append', 'a.csv'), 'utf8')).toBe('id\n1\n2\n3\n');
  });

  it('refuses upsert', async () => {
    await expect(writeRows(sftp, dest('u.csv', 'csv', 'upsert'), [[{ id: 1 }]])).rejects.toThrow(/upsert/);
  });

  it('replaces atomically: a rollback leaves the old file and no temp file', async () => {
    await writeRows(sftp, dest('atomic/t.csv', 'csv'), [[{ id: 'old' }]]);
    const w = await sftp.writer(dest('atomic/t.csv', 'csv'));
    await w.write([{ id: 'new' }]);
    // Until commit the target is the old file; the new bytes are in a hidden temp file beside it.
    expect(await readFile(path.join(root, 'atomic', 't.csv'), 'utf8')).toBe('id\nold\n');
    await w.rollback();
    expect(await readdir(path.join(root, 'atomic'))).toEqual(['t.csv']);
    expect(await readFile(path.join(root, 'atomic', 't.csv'), 'utf8')).toBe('id\nold\n');
    await writeRows(sftp, dest('atomic/t.csv', 'csv'), [[{ id: 'new' }]]);
    expect(await readFile(path.join(root, 'atomic', 't.csv'), 'utf8')).toBe('id\nnew\n');
    expect(await readdir(path.join(root, 'atomic'))).toEqual(['t.csv']);
  });

  it('discover() lists the root files with their formats and first-record columns, hidden files left out', async () => {
    await writeFile(path.join(root, '.hidden.csv'), 'a\n1\n');
    const tables = await sftp.discover();
    const names = tables.map((t) => t.name);
    expect(names).toContain('orders-1.csv');
    expect(names).toContain('in/2024-01.json');
    expect(names).not.toContain('.hidden.csv');
    const orders = tables.find((t) => t.name === 'orders-1.csv');
    expect(orders).toMatchObject({ format: 'csv' });
    expect(orders?.columns.map((c) => c.name)).toEqual(['id', 'n']);
  });

  it('refuses paths that leave the root: absolute, `..`, and symlinks that lead out', async () => {
    await expect(rowsOf(sftp, '/etc/passwd', 'csv')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rowsOf(sftp, '../secret.csv', 'csv')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rowsOf(sftp, 'in/../../secret.csv', 'csv')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(rowsOf(sftp, 'link.csv', 'csv')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/outside/),
    });
    await expect(rowsOf(sftp, 'escape/secret.csv', 'csv')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(writeRows(sftp, dest('escape/new.csv', 'csv'), [[{ id: 1 }]])).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(writeRows(sftp, dest('../new.csv', 'csv'), [[{ id: 1 }]])).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await readdir(s.dir)).not.toContain('new.csv');
    expect(await readFile(path.join(s.dir, 'secret.csv'), 'utf8')).toBe('x\nsecret\n');
  });

  it('streams a large file both ways in bounded batches', async () => {
    const total = 200_000;
    const w = await sftp.writer(dest('big/big.ndjson', 'ndjson'));
    for (let i = 0; i < total; i += 5000) {
      await w.write(Array.from({ length: 5000 }, (_, j) => ({ id: i + j, name: `row ${i + j}` })));
    }
    expect((await w.commit()).rowsWritten).toBe(total);
    let n = 0;
    let largest = 0;
    for (const b of await readAll(sftp, { file: 'big/big.ndjson', format: { type: 'ndjson' } })) {
      n += b.length;
      largest = Math.max(largest, b.length);
    }
    expect(n).toBe(total);
    expect(largest).toBeLessThanOrEqual(10_000);
  });
});

describe('sftp connector: a connection dropped mid-transfer', () => {
  it('a write fails with the reason, leaves the old file, and the server keeps serving', async () => {
    await writeRows(sftp, dest('drop/out.ndjson', 'ndjson'), [[{ id: 'old' }]]);
    const w = await sftp.writer(dest('drop/out.ndjson', 'ndjson'));
    const batch = (i: number) =>
      Array.from({ length: 2000 }, (_, j) => ({ id: i * 2000 + j, pad: 'x'.repeat(100) }));
    await w.write(batch(0));
    await w.write(batch(1));
    expect(s.killSessions()).toBeGreaterThan(0);
    const err = await (async () => {
      for (let i = 2; i < 500; i++) await w.write(batch(i));
      await w.commit();
    })().catch((e: unknown) => e);
    await w.rollback();
    expect(err).toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/SFTP connection to .* was lost/),
    });
    expect(await readFile(path.join(root, 'drop', 'out.ndjson'), 'utf8')).toBe('{"id":"old"}\n');
    // The dead connection could not remove its temp file: it stays hidden, out of listings and wildcards,
    // and the next write of the same file is unharmed.
    await sftp.check();
    expect((await sftp.discover()).map((t) => t.name).filter((n) => n.startsWith('drop/'))).toEqual([
      'drop/out.ndjson',
    ]);
    await writeRows(sftp, dest('drop/out.ndjson', 'ndjson'), [[{ id: 'new' }]]);
    expect(await rowsOf(sftp, 'drop/out.ndjson', 'ndjson')).toEqual([{ id: 'new' }]);
  });

  it('a server that stops answering mid-read is given up after the keepalives go unanswered', async () => {
    const lines = Array.from({ length: 300_000 }, (_, i) => `{"id":${i},"pad":"${'z'.repeat(60)}"}`);
    await writeFile(path.join(root, 'drop', 'frozen.ndjson'), `${lines.join('\n')}\n`);
    const c = await open({ keepaliveInterval: 1, keepaliveCountMax: 2 });
    const src = await c.read({ file: 'drop/frozen.ndjson', format: { type: 'ndjson' } });
    const frozen: number[] = [];
    const started = Date.now();
    try {
      const err = await (async () => {
        for await (const _ of src.batches) {
          if (frozen.length > 0) continue;
          // Stopped, not killed: the TCP connection stays open and simply goes quiet.
          for (const pid of s.sessionPids()) {
            process.kill(pid, 'SIGSTOP');
            frozen.push(pid);
          }
        }
      })().catch((e: unknown) => e);
      expect(frozen.length).toBeGreaterThan(0);
      expect(err).toMatchObject({
        code: 'CONNECTION_FAILED',
        message: expect.stringMatching(/SFTP connection to .* was lost: .*[Kk]eepalive/),
      });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Ended already.
        }
      }
    }
    await expect(sftp.check()).resolves.toBeUndefined();
  });

  it('a read fails with the reason and the server keeps serving', async () => {
    const lines = Array.from({ length: 300_000 }, (_, i) => `{"id":${i},"pad":"${'y'.repeat(60)}"}`);
    await writeFile(path.join(root, 'drop', 'in.ndjson'), `${lines.join('\n')}\n`);
    const src = await sftp.read({ file: 'drop/in.ndjson', format: { type: 'ndjson' } });
    let seen = 0;
    const err = await (async () => {
      for await (const b of src.batches) {
        seen += b.length;
        if (seen > 0 && seen === b.length) s.killSessions();
      }
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'CONNECTION_FAILED',
      message: expect.stringMatching(/SFTP connection to .* was lost/),
    });
    expect(seen).toBeLessThan(lines.length);
    expect(await rowsOf(sftp, 'orders-2.csv', 'csv')).toEqual([{ id: '3', n: 'c' }]);
  });
});
