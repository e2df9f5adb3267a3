/**
 * SFTP benchmark: a CSV file on an SFTP server into a PostgreSQL table, through a flow (an sftp
 * connection to a postgres one, run by the run service) against the way one would do it by hand in the
 * same run: OpenSSH's `sftp` downloads the file, then `psql \copy` loads it.
 *   node --import tsx bench/sftp.ts [megabytes] [--reps N]
 * megabytes (of CSV) defaults to 500; --reps (default 3) repeats each side and reports the median. The
 * server is a real sshd on 127.0.0.1 (test/helpers/sshd.ts: needs openssh-server, as root), the database
 * the test PostgreSQL (test/services.ts). Both sides alternate which goes first; the table is truncated
 * and CHECKPOINTed before every run. Writes bench/results/sftp.md.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { startSshd } from '../test/helpers/sshd.js';
import { createPgDatabase } from '../test/services.js';
import { median } from './_stats.js';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results', 'sftp.md');
const CITIES = ['Zürich', 'New York', 'São Paulo', 'Tokyo, "East"', 'Paris'];
const BASE_MS = Date.UTC(2024, 0, 1);
const COLUMNS = 'id bigint, name text, city text, amount numeric, created_at timestamp, active boolean';

const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 3;
const megabytes = Number(args.find((a, i) => /^\d+(\.\d+)?$/.test(a) && args[i - 1] !== '--reps') ?? 500);

function sh(cmd: string): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const p = spawn('bash', ['-c', `set -o pipefail; ${cmd}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code === 0) resolve({ seconds: (performance.now() - t) / 1000, stdout });
      else reject(new Error(`${cmd}\nexit ${code}: ${stderr}`));
    });
  });
}

/** CSV rows until `bytes` are written: text with non-ASCII letters, and a delimiter and quotes in one value in five. */
async function* csv(bytes: number): AsyncGenerator<string> {
  let written = 0;
  let i = 0;
  const header = 'id,name,city,amount,created_at,active\n';
  yield header;
  written += header.length;
  while (written < bytes) {
    let s = '';
    for (let n = 0; n < 10_000; n++, i++) {
      const city = CITIES[i % CITIES.length] ?? '';
      const ts = new Date(BASE_MS + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
      s += `${i},name ${i},${city.includes(',') ? `"${city.replaceAll('"', '""')}"` : city},${(i % 100000) / 100},${ts},${i % 2 === 0 ? 1 : 0}\n`;
    }
    written += Buffer.byteLength(s);
    yield s;
  }
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const ssh = await startSshd();
  const db = await createPgDatabase('bench_sftp');
  const work = mkdtempSync(join(tmpdir(), 'integrator-bench-sftp-'));
  try {
    const remoteDir = join(ssh.dir, 'outgoing');
    mkdirSync(remoteDir);
    const file = join(remoteDir, 'data.csv');
    await pipeline(Readable.from(csv(megabytes * 1e6)), createWriteStream(file));
    const size = statSync(file).size;
    const keyFile = join(work, 'key');
    writeFileSync(keyFile, ssh.privateKey, { mode: 0o600 });
    const psql = (sql: string) => sh(`psql '${db.url}' -qAtc "${sql}"`);
    await psql(`create table t (${COLUMNS})`);
    const rows = Number((await sh(`wc -l < '${file}'`)).stdout) - 1;
    console.log(
      `${(size / 1e6).toFixed(1)} MB CSV, ${rows.toLocaleString('en')} rows; load average ${load0.map((l) => l.toFixed(2)).join(' ')}`,
    );

    const { loadSettings } = await import('../src/config.js');
    const { createContext } = await import('../src/context.js');
    const { createLogger } = await import('../src/core/logger.js');
    const dataDir = join(work, 'data');
    const ctx = await createContext(
      loadSettings({
        INTEGRATOR_DATA_DIR: dataDir,
        INTEGRATOR_DEMO: 'false',
        INTEGRATOR_ADMIN_PASSWORD: 'bench-password-1',
        INTEGRATOR_LOG_LEVEL: 'silent',
      }),
      createLogger('silent'),
    );
    const by = { name: 'bench' };
    await ctx.definitions.put(
      'connection',
      'remote',
      {
        type: 'sftp',
        host: ssh.host,
        port: ssh.port,
        username: ssh.username,
        privateKey: ssh.privateKey,
        hostKey: ssh.hostKey,
        root: remoteDir,
      },
      by,
    );
    await ctx.definitions.put('connection', 'pg', { type: 'postgres', url: db.url }, by);
    await ctx.definitions.put(
      'flow',
      'bench',
      {
        type: 'transfer',
        steps: [{ from: { connection: 'remote', file: 'data.csv' }, to: { connection: 'pg', table: 't' } }],
      },
      by,
    );
    // The drivers' modules load once per process, on the first open; a server pays that once.
    await ctx.connectors.get('remote');
    await ctx.connectors.get('pg');

    const reset = async () => {
      await psql('truncate t');
      await psql('checkpoint');
      rmSync(join(work, 'download.csv'), { force: true });
    };
    const count = async () => Number((await psql('select count(*) from t')).stdout);
    const sftpOpts = `-q -i '${keyFile}' -P ${ssh.port} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes`;
    const baseline = async () => {
      const get = await sh(
        `echo "get '${file}' '${join(work, 'download.csv')}'" | sftp ${sftpOpts} -b - ${ssh.username}@${ssh.host}`,
      );
      const copy = await sh(
        `psql '${db.url}' -qc "\\copy t from '${join(work, 'download.csv')}' csv header"`,
      );
      return { seconds: get.seconds + copy.seconds, get: get.seconds, copy: copy.seconds };
    };
    const flow = async () => {
      const t0 = performance.now();
      const run = await ctx.runs.runSync({ flow: 'bench', trigger: 'cli', params: {} });
      const seconds = (performance.now() - t0) / 1000;
      if (run.status !== 'succeeded') throw new Error(`flow failed: ${run.error}`);
      return { seconds, path: run.steps[0]?.path ?? '?' };
    };

    const base: { seconds: number; get: number; copy: number }[] = [];
    const ours: { seconds: number; path: string }[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? ['baseline', 'flow'] : ['flow', 'baseline'];
      for (const side of order) {
        await reset();
        if (side === 'baseline') base.push(await baseline());
        else ours.push(await flow());
        const n = await count();
        if (n !== rows) throw new Error(`${side}: ${n} rows in t, expected ${rows}`);
        const last = side === 'baseline' ? base.at(-1) : ours.at(-1);
        console.log(`  rep ${rep + 1} ${side.padEnd(8)} ${last?.seconds.toFixed(2)} s`);
      }
    }
    await ctx.close();
    const b = median(base.map((x) => x.seconds));
    const o = median(ours.map((x) => x.seconds));
    const load1 = loadavg();
    const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const lines = [
      `# SFTP benchmark — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `${(size / 1e6).toFixed(1)} MB CSV (${rows.toLocaleString('en')} rows) on a local sshd into PostgreSQL, median of ${REPS}; load average ${load0[0]?.toFixed(2)} at the start, ${load1[0]?.toFixed(2)} at the end.`,
      '',
      '| case | baseline (sftp get + psql \\copy) | Integrator (sftp → postgres flow) | ratio | path |',
      '|---|---|---|---|---|',
      `| CSV → PostgreSQL | ${b.toFixed(2)} s (get ${median(base.map((x) => x.get)).toFixed(2)} s + copy ${median(base.map((x) => x.copy)).toFixed(2)} s) | ${o.toFixed(2)} s, ${(size / 1e6 / o).toFixed(0)} MB/s | ${(o / b).toFixed(2)}× | ${ours[0]?.path} |`,
      '',
      `Every repetition: baseline ${base.map((x) => x.seconds.toFixed(2)).join(', ')} s; flow ${ours.map((x) => x.seconds.toFixed(2)).join(', ')} s. Peak RSS of the bench process ${maxRssMb} MB.`,
      '',
    ];
    console.log(`\n${lines.join('\n')}`);
    mkdirSync(dirname(RESULTS), { recursive: true });
    writeFileSync(RESULTS, lines.join('\n'));
  } finally {
    rmSync(work, { recursive: true, force: true });
    await ssh.stop();
    await db.drop();
  }
}

await main();
