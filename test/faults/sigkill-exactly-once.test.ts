/**
 * Exactly once through SIGKILL: a real server process is killed at seeded random moments while it
 * accepts async listener calls, answers sync listener calls and executes queued runs, then started
 * again on the same data directory and metadata store (SQLite, PostgreSQL), for 20 rounds. The client
 * sends again every call it has no answer for, with the same Idempotency-Key, and at the end every call
 * it ever made; every payload must have landed exactly once in the destination, none lost.
 *
 * The random moments come from one seed, printed at the start: FAULT_SEED=<seed> replays them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startProcess } from '../helpers/processes.js';
import { createPgDatabase } from '../services.js';

const ROUNDS = Number(process.env.FAULT_ROUNDS ?? 20);
const PASSWORD = 'exactly-once-password';
const SEED = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`sigkill-exactly-once: seed ${SEED} (replay with FAULT_SEED=${SEED})`);

/** mulberry32: a small seeded generator, so a failing sequence of kills can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the client has sent and what it knows of each call. */
interface Ledger {
  /** Async calls by key: the receipt's run id once a 202 came back. */
  async: Map<string, string | undefined>;
  /** Sync calls by key: whether a 2xx came back. */
  sync: Map<string, boolean>;
  /** Queued runs by their parameter: the run id once the 202 came back (undefined: in doubt). */
  queued: Map<string, string | undefined>;
}

async function login(url: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/rest/v1/token-auth/issue`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: 'admin', password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login failed: ${res.status}`);
  return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}

async function define(url: string, auth: Record<string, string>, destUrl: string): Promise<void> {
  const put = async (kind: string, name: string, spec: object) => {
    const res = await fetch(`${url}/rest/v1/${kind}/${name}`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    if (res.status >= 300) throw new Error(`PUT ${kind}/${name}: ${res.status} ${await res.text()}`);
  };
  await put('connections', 'dest', { type: 'postgres', url: destUrl });
  for (const kind of ['async', 'sync']) {
    await put('flows', `land-${kind}`, {
      type: 'transfer',
      steps: [{ from: { connection: '@request' }, to: { connection: 'dest', table: `${kind}_rows` } }],
    });
  }
  await put('flows', 'land-queued', {
    type: 'transfer',
    parameters: { k: { type: 'string' } },
    // An interrupted queued run is queued again only when its flow retries (docs/runs.md).
    retry: { attempts: 20, delay: 0 },
    steps: [
      {
        from: { connection: 'dest', query: 'select cast({k} as text) as k from (select pg_sleep(0.05)) s' },
        to: { connection: 'dest', table: 'queued_rows' },
      },
    ],
  });
  await put('listeners', 'x-async', { path: 'x/async', flow: 'land-async', mode: 'async' });
  await put('listeners', 'x-sync', { path: 'x/sync', flow: 'land-sync', mode: 'sync' });
}

/** One listener call with its key; the status, or undefined when the call was cut (the server died). */
async function send(url: string, auth: Record<string, string>, mode: 'async' | 'sync', key: string) {
  try {
    const res = await fetch(`${url}/rest/v1/httplistener/x/${mode}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ k: key }),
    });
    const text = await res.text();
    return { status: res.status, body: text };
  } catch {
    return undefined;
  }
}

async function enqueue(url: string, auth: Record<string, string>, k: string) {
  try {
    const res = await fetch(`${url}/rest/v1/flows/flow-name/land-queued/run?async=true&k=${k}`, {
      method: 'POST',
      headers: auth,
    });
    if (res.status !== 202) return undefined;
    return ((await res.json()) as { runId: string }).runId;
  } catch {
    return undefined;
  }
}

/**
 * Sends what is unanswered and new calls of all three kinds until `stop()` says so. New keys are named
 * after the round, so a payload's key says when it was first sent.
 */
function traffic(url: string, auth: Record<string, string>, ledger: Ledger, round: number) {
  let stopped = false;
  let n = 0;
  /** Answers of this round per kind, so a kill can wait until all three kinds are under way. */
  const answers = { async: 0, sync: 0, queued: 0 };
  const asyncSender = async () => {
    while (!stopped) {
      const key = `a-${round}-${n++}`;
      ledger.async.set(key, undefined);
      const res = await send(url, auth, 'async', key);
      if (res?.status === 202) {
        ledger.async.set(key, (JSON.parse(res.body) as { runId: string }).runId);
        answers.async++;
      }
    }
  };
  const syncSender = async () => {
    while (!stopped) {
      const key = `s-${round}-${n++}`;
      ledger.sync.set(key, false);
      const res = await send(url, auth, 'sync', key);
      if (res && res.status < 300) {
        ledger.sync.set(key, true);
        answers.sync++;
      }
    }
  };
  const queuer = async () => {
    while (!stopped) {
      const k = `q-${round}-${n++}`;
      ledger.queued.set(k, undefined);
      const runId = await enqueue(url, auth, k);
      if (runId) {
        ledger.queued.set(k, runId);
        answers.queued++;
      }
    }
  };
  const all = Promise.all([asyncSender(), asyncSender(), syncSender(), syncSender(), queuer(), queuer()]);
  return {
    /** Resolves once every kind of call has been answered at least once this round (or after 10 s). */
    async underWay() {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && (answers.async === 0 || answers.sync === 0 || answers.queued === 0))
        await sleep(10);
    },
    async stop() {
      stopped = true;
      await all;
    },
  };
}

/** Sends every unanswered listener call again (its key unchanged) until it is answered. */
async function resendUnanswered(
  url: string,
  auth: Record<string, string>,
  ledger: Ledger,
  all: boolean,
  stopped: () => boolean = () => false,
) {
  const deadline = Date.now() + 30_000;
  const pending = () => [
    ...[...ledger.async].filter(([, r]) => all || r === undefined).map(([k]) => ['async', k] as const),
    ...[...ledger.sync].filter(([, ok]) => all || !ok).map(([k]) => ['sync', k] as const),
  ];
  const firstReceipts = new Map(ledger.async);
  const answered = new Set<string>();
  for (;;) {
    const todo = pending().filter(([, k]) => !answered.has(k));
    if (todo.length === 0 || stopped()) return;
    if (Date.now() > deadline)
      throw new Error(`seed ${SEED}: still unanswered: ${todo.slice(0, 5).join(' ')}`);
    for (let i = 0; i < todo.length; i += 20) {
      await Promise.all(
        todo.slice(i, i + 20).map(async ([mode, key]) => {
          const res = await send(url, auth, mode, key);
          // 409: the first call's run is still in progress (crash recovery has not ended it yet).
          if (!res || res.status === 409) return;
          if (mode === 'async') {
            expect(res.status, `seed ${SEED}: ${key}: ${res.body}`).toBe(202);
            const runId = (JSON.parse(res.body) as { runId: string }).runId;
            const first = firstReceipts.get(key);
            // A key answered before answers the same receipt: the same call, not a new one.
            if (first) expect(runId, `seed ${SEED}: receipt of ${key}`).toBe(first);
            ledger.async.set(key, runId);
          } else {
            expect(res.status, `seed ${SEED}: ${key}: ${res.body}`).toBeLessThan(300);
            ledger.sync.set(key, true);
          }
          answered.add(key);
        }),
      );
    }
    await sleep(200);
  }
}

async function waitForRuns(url: string, auth: Record<string, string>): Promise<void> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    const open = await Promise.all(
      ['queued', 'running'].map(async (status) => {
        const res = await fetch(`${url}/rest/v1/runs?status=${status}&limit=10`, { headers: auth });
        return ((await res.json()) as unknown[]).length;
      }),
    );
    if (open[0] === 0 && open[1] === 0) return;
    if (Date.now() > deadline) throw new Error(`seed ${SEED}: runs still open: ${open.join('/')}`);
    await sleep(250);
  }
}

async function scenario(store: 'sqlite' | 'postgres', seed: number): Promise<void> {
  const rand = random(seed);
  const dest = await createPgDatabase('xonce_dest');
  const meta = store === 'postgres' ? await createPgDatabase('xonce_store') : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), `integrator-xonce-${store}-`));
  const destPool = new pg.Pool({ connectionString: dest.url, max: 2 });
  // Dropping the databases at the end terminates what is still connected, this pool's closing
  // connections included: their error is expected, not a failure of the scenario.
  destPool.on('error', () => {});
  let proc: ServerProcess | undefined;
  try {
    for (const t of ['async_rows', 'sync_rows', 'queued_rows'])
      await destPool.query(`create table ${t} (k text)`);
    const env: Record<string, string> = {
      INTEGRATOR_ADMIN_PASSWORD: PASSWORD,
      INTEGRATOR_RUN_LEASE: '2',
      INTEGRATOR_WORKERS: '4',
      INTEGRATOR_LOG_LEVEL: 'error',
      ...(meta ? { INTEGRATOR_DATABASE_URL: meta.url } : {}),
    };
    const ledger: Ledger = { async: new Map(), sync: new Map(), queued: new Map() };
    proc = await startProcess('all', env, dataDir);
    await define(proc.url, await login(proc.url), dest.url);
    for (let round = 1; round <= ROUNDS; round++) {
      const t0 = Date.now();
      if (!proc) proc = await startProcess('all', env, dataDir);
      const auth = await login(proc.url);
      if (process.env.FAULT_DEBUG) console.log(store, round, 'start', Date.now() - t0);
      const load = traffic(proc.url, auth, ledger, round);
      // The unanswered calls of the rounds before go again, side by side with the new ones.
      let killed = false;
      const again = resendUnanswered(proc.url, auth, ledger, false, () => killed).catch(() => undefined);
      const started = Date.now();
      // The kill strikes at a random moment once all three kinds of calls are under way.
      await load.underWay();
      await sleep(Math.floor(rand() * 400));
      killed = true;
      await proc.kill('SIGKILL');
      if (process.env.FAULT_DEBUG) console.log(store, round, Date.now() - started);
      proc = undefined;
      await Promise.all([load.stop(), again]);
    }
    const final = Date.now();
    proc = await startProcess('all', env, dataDir);
    const auth = await login(proc.url);
    // Everything ever sent goes once more: answered calls answer as before and run nothing.
    if (process.env.FAULT_DEBUG) console.log(store, 'final start', Date.now() - final);
    await resendUnanswered(proc.url, auth, ledger, true);
    if (process.env.FAULT_DEBUG) console.log(store, 'final resent', Date.now() - final);
    await waitForRuns(proc.url, auth);
    if (process.env.FAULT_DEBUG) console.log(store, 'final', Date.now() - final);

    const counts = async (table: string) =>
      new Map(
        (
          await destPool.query<{ k: string; n: number }>(
            `select k, count(*)::int as n from ${table} group by k`,
          )
        ).rows.map((r) => [r.k, r.n]),
      );
    const landed = { async: await counts('async_rows'), sync: await counts('sync_rows') };
    for (const mode of ['async', 'sync'] as const) {
      const sent = [...ledger[mode].keys()];
      expect(sent.length, `${mode} calls sent`).toBeGreaterThan(ROUNDS);
      const wrong = sent
        .filter((k) => landed[mode].get(k) !== 1)
        .map((k) => `${k}=${landed[mode].get(k) ?? 0}`);
      expect(wrong, `seed ${SEED}, ${store} store: ${mode} payloads not landed exactly once`).toEqual([]);
      expect(landed[mode].size, `${mode}: rows nobody sent`).toBe(sent.length);
    }
    // A queued run the server acknowledged lands once; one whose 202 was cut at most once (the run API
    // takes no key: the client cannot tell, and does not ask again).
    const queued = await counts('queued_rows');
    const acked = [...ledger.queued].filter(([, id]) => id !== undefined).map(([k]) => k);
    expect(acked.length, 'queued runs acknowledged').toBeGreaterThan(ROUNDS);
    const wrongRuns = acked.filter((k) => queued.get(k) !== 1).map((k) => `${k}=${queued.get(k) ?? 0}`);
    expect(wrongRuns, `seed ${SEED}, ${store} store: queued runs not landed exactly once`).toEqual([]);
    for (const [k, n] of queued) expect(n, `seed ${SEED}: queued ${k}`).toBe(1);
    const failed = await fetch(`${proc.url}/rest/v1/runs?status=failed&limit=1000`, { headers: auth });
    const failures = ((await failed.json()) as { id: string; flow: string; error: string }[]).filter(
      (r) => r.flow !== 'land-sync',
    );
    // Sync runs the kill cut are failed by recovery, then run again by the re-sent call; no other run fails.
    expect(failures, `seed ${SEED}, ${store} store`).toEqual([]);
  } finally {
    await proc?.kill('SIGKILL');
    await destPool.end();
    await dest.drop();
    await meta?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('SIGKILL during async intake, sync calls and queued runs', () => {
  afterAll(() => {
    console.log(`sigkill-exactly-once: seed ${SEED}`);
  });
  it.concurrent('lands every payload exactly once: SQLite metadata store', { timeout: 480_000 }, () =>
    scenario('sqlite', SEED),
  );
  it.concurrent('lands every payload exactly once: PostgreSQL metadata store', { timeout: 480_000 }, () =>
    scenario('postgres', SEED + 1),
  );
});
