/**
 * Kill-and-restart: a server started from bin/integrator.js accepts async payloads while it is killed
 * with SIGKILL; after a restart on the same data directory every accepted payload has been processed
 * exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const PASSWORD = 'durability-password';

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => ok(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function start(dataDir: string, port: number): Promise<ChildProcess> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INTEGRATOR_')));
  const child = spawn(process.execPath, [join(repo, 'bin/integrator.js'), 'start'], {
    cwd: repo,
    env: {
      ...base,
      INTEGRATOR_DATA_DIR: dataDir,
      INTEGRATOR_PORT: String(port),
      INTEGRATOR_HOST: '127.0.0.1',
      INTEGRATOR_ADMIN_PASSWORD: PASSWORD,
      INTEGRATOR_WORKERS: '1',
      INTEGRATOR_LOG_LEVEL: 'warn',
    },
    stdio: process.env.DEBUG_CHILD ? 'inherit' : 'ignore',
  });
  for (let i = 0; i < 150; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

describe('async listener durability', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'integrator-kill-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('processes every accepted payload exactly once after SIGKILL and restart', {
    timeout: 90_000,
  }, async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = await start(dataDir, port);
    const login = await fetch(`${url}/rest/v1/token-auth/issue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'admin', password: PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    const made = await fetch(`${url}/rest/v1/listeners/async-patient`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ path: 'async/patient', flow: 'hl7-patient-in', mode: 'async' }),
    });
    expect(made.status).toBe(201);

    const accepted = new Map<number, string>();
    let next = 1;
    let killed = false;
    const sender = async () => {
      while (!killed) {
        const id = next++;
        try {
          const res = await fetch(`${url}/rest/v1/httplistener/async/patient`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `p-${id}` },
            body: JSON.stringify({ patientid: id, name: `patient ${id}` }),
          });
          if (res.status === 202) accepted.set(id, ((await res.json()) as { messageId: string }).messageId);
        } catch {
          // The server died under this request: it was never acknowledged.
        }
      }
    };
    const senders = Array.from({ length: 16 }, sender);
    while (accepted.size < 300) await new Promise((r) => setTimeout(r, 5));
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGKILL');
    killed = true;
    await Promise.all(senders);
    await exited;

    const db = new SQLite(join(dataDir, 'integrator.db'), { readonly: true });
    const waiting = db
      .prepare(
        "select count(*) as n from runs where trigger = 'listener' and status in ('queued', 'running')",
      )
      .get() as { n: number };
    db.close();
    expect(waiting.n, 'payloads were still waiting when the server was killed').toBeGreaterThan(0);

    child = await start(dataDir, port);
    const store = new SQLite(join(dataDir, 'integrator.db'), { readonly: true });
    const open = () =>
      (
        store
          .prepare(
            "select count(*) as n from runs where trigger = 'listener' and status in ('queued', 'running')",
          )
          .get() as { n: number }
      ).n;
    for (let i = 0; i < 300 && open() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(open()).toBe(0);
    const runs = store
      .prepare(
        "select p.message_id, r.status, r.rows_written from listener_payloads p join runs r on r.id = p.run_id where p.listener = 'async-patient'",
      )
      .all() as { message_id: string; status: string; rows_written: number }[];
    const failed = store
      .prepare("select count(*) as n from runs where trigger = 'listener' and status <> 'succeeded'")
      .get() as { n: number };
    store.close();
    expect(failed.n).toBe(0);
    const demo = new SQLite(join(dataDir, 'files', 'demo.db'), { readonly: true });
    const rows = demo.prepare('select patientid, count(*) as n from patient group by patientid').all() as {
      patientid: number;
      n: number;
    }[];
    demo.close();
    const present = new Map(rows.map((r) => [r.patientid, r.n]));
    for (const id of accepted.keys()) expect(present.get(id), `patient ${id}`).toBe(1);
    // Payloads of finished runs are deleted shortly after; those still here all succeeded once.
    for (const r of runs) expect(r.status).toBe('succeeded');
    const messageIds = [...accepted.values()];
    expect(new Set(messageIds).size).toBe(messageIds.length);
  });
});
