/**
 * Connector benchmark: the byte fast paths and the row writer against the native clients, in the
 * same run on the same machine. Run: node --import tsx bench/connectors.ts [rows]
 * Needs psql and mariadb on PATH and the test servers (see test/services.ts).
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createMysqlConnector } from '../src/connectors/mysql/mysql-connector.js';
import { createPostgresConnector } from '../src/connectors/postgres/postgres-connector.js';
import type { Column, Row } from '../src/core/records.js';
import { createMariaDatabase, createPgDatabase } from '../test/services.js';

const run = promisify(execFile);
const ROWS = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'integrator-bench-'));
const file = join(dir, 'data.csv');

const COLUMNS: Column[] = [
  { name: 'id', type: 'integer' },
  { name: 'name', type: 'text' },
  { name: 'city', type: 'text' },
  { name: 'amount', type: 'number' },
  { name: 'created_at', type: 'timestamp' },
  { name: 'active', type: 'boolean' },
];
const PG_DDL =
  'create table t (id int, name text, city text, amount numeric, created_at timestamptz, active boolean)';
const MY_DDL =
  'create table t (id int, name longtext, city longtext, amount double, created_at datetime(6), active boolean) default charset=utf8mb4';
const CITIES = ['Zürich', 'New York', 'São Paulo', 'Tokyo, "East"', 'Paris'];

function rowAt(i: number): Row {
  return {
    id: i,
    name: `name ${i}`,
    city: CITIES[i % CITIES.length],
    amount: (i % 100000) / 100,
    created_at: new Date(Date.UTC(2024, 0, 1) + i * 1000),
    active: i % 2 === 0,
  };
}

async function* csvChunks(): AsyncGenerator<string> {
  yield 'id,name,city,amount,created_at,active\n';
  for (let i = 0; i < ROWS; i += 10_000) {
    let s = '';
    for (let j = i; j < Math.min(ROWS, i + 10_000); j++) {
      const r = rowAt(j);
      const city = String(r.city);
      const ts = new Date(Date.UTC(2024, 0, 1) + j * 1000).toISOString().replace('T', ' ').slice(0, 19);
      s += `${j},name ${j},${city.includes(',') ? `"${city.replaceAll('"', '""')}"` : city},${r.amount},${ts},${j % 2 === 0 ? 1 : 0}\n`;
    }
    yield s;
  }
}

async function* rowBatches(): AsyncGenerator<Row[]> {
  for (let i = 0; i < ROWS; i += 5000) {
    const b: Row[] = [];
    for (let j = i; j < Math.min(ROWS, i + 5000); j++) b.push(rowAt(j));
    yield b;
  }
}

const results: { name: string; seconds: number; baseline?: number; target?: number; rssMb: number }[] = [];
// RSS is sampled during each step, so each figure is that step's own peak (maxRSS never goes down).
let stepPeak = 0;
async function time(fn: () => Promise<unknown>): Promise<number> {
  global.gc?.();
  stepPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    stepPeak = Math.max(stepPeak, process.memoryUsage().rss);
  }, 20);
  const t = process.hrtime.bigint();
  try {
    await fn();
  } finally {
    clearInterval(sampler);
  }
  stepPeak = Math.max(stepPeak, process.memoryUsage().rss);
  return Number(process.hrtime.bigint() - t) / 1e9;
}
function record(name: string, seconds: number, baseline?: number, target?: number): void {
  const rssMb = Math.round(stepPeak / 1024 / 1024);
  results.push({ name, seconds, ...(baseline ? { baseline } : {}), ...(target ? { target } : {}), rssMb });
  const ratio = baseline
    ? ` ratio ${(seconds / baseline).toFixed(2)}x${target ? ` (target ≤ ${target}x)` : ''}`
    : '';
  console.log(
    `${name.padEnd(52)} ${seconds.toFixed(2)} s  ${Math.round(ROWS / seconds).toLocaleString()} rows/s${ratio}  peak RSS ${rssMb} MB`,
  );
}
const sh = (cmd: string) => run('bash', ['-c', cmd], { maxBuffer: 1 << 20 });

async function main(): Promise<void> {
  await pipeline(Readable.from(csvChunks()), createWriteStream(file));
  console.log(`${ROWS.toLocaleString()} rows, CSV ${(statSync(file).size / 1e6).toFixed(1)} MB in ${dir}`);
  const a = await createPgDatabase('bencha');
  const b = await createPgDatabase('benchb');
  const my = await createMariaDatabase('bench');
  const pa = createPostgresConnector({ url: a.url, poolSize: 4 });
  const pb = createPostgresConnector({ url: b.url, poolSize: 4 });
  const mc = createMysqlConnector({ url: my.url, poolSize: 4 });
  try {
    await pa.pool.query(PG_DDL);
    await pb.pool.query(PG_DDL);
    const dest = { table: 't', mode: 'append' as const, columns: COLUMNS };

    // 1. CSV file into PostgreSQL.
    const psqlIn = await time(() => sh(`psql '${a.url}' -qc "\\copy t from '${file}' csv header"`));
    record('psql \\copy t from file', psqlIn);
    await pa.pool.query('truncate t');
    const cIn = await time(() => pa.copyIn!.write(dest, createReadStream(file), {}));
    record('connector copyIn (file -> pg)', cIn, psqlIn, 1.3);

    // 2. Table to table between two databases.
    const psqlPipe = await time(() =>
      sh(
        `psql '${a.url}' -qc "\\copy t to stdout csv header" | psql '${b.url}' -qc "\\copy t from stdin csv header"`,
      ),
    );
    record('psql \\copy to stdout | psql \\copy from stdin', psqlPipe);
    await pb.pool.query('truncate t');
    const cPipe = await time(async () => {
      const out = await pa.copyOut!.read({ table: 't' }, {});
      await pb.copyIn!.write(dest, out.bytes, {});
    });
    record('connector copyOut -> copyIn (pg -> pg)', cPipe, psqlPipe, 1.5);

    // 3. Table to a CSV file.
    const psqlOut = await time(() =>
      sh(`psql '${a.url}' -qc "\\copy t to '${join(dir, 'psql.csv')}' csv header"`),
    );
    record('psql \\copy t to file', psqlOut);
    const cOut = await time(async () => {
      const out = await pa.copyOut!.read({ table: 't' }, {});
      await pipeline(Readable.from(out.bytes), createWriteStream(join(dir, 'conn.csv')));
    });
    record('connector copyOut (pg -> file)', cOut, psqlOut, 1.5);

    // 4. CSV file into MariaDB.
    await mc.pool.query(MY_DDL);
    const load = `LOAD DATA LOCAL INFILE '${file}' INTO TABLE t CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\\"' IGNORE 1 LINES`;
    const myUrl = new URL(my.url);
    const mariaIn = await time(() =>
      sh(
        `mariadb --local-infile=1 -h ${myUrl.hostname} -P ${myUrl.port || 3306} -u root ${my.name} -e "${load}"`,
      ),
    );
    record('mariadb client LOAD DATA LOCAL INFILE', mariaIn);
    await mc.pool.query('truncate t');
    const mIn = await time(() => mc.copyIn!.write(dest, createReadStream(file), {}));
    record('connector copyIn (file -> mariadb, LOAD DATA)', mIn, mariaIn, 1.5);
    await mc.pool.query('truncate t');
    const mW = await time(async () => {
      const w = await mc.writer(dest);
      for await (const batch of rowBatches()) await w.write(batch);
      await w.commit();
    });
    record('connector writer (Row batches -> mariadb, INSERT)', mW, mariaIn);

    // 5. Row objects into PostgreSQL.
    await pa.pool.query('truncate t');
    const pW = await time(async () => {
      const w = await pa.writer(dest);
      for await (const batch of rowBatches()) await w.write(batch);
      await w.commit();
    });
    record('connector writer (Row batches -> pg, COPY text)', pW, psqlIn);
    const pR = await time(async () => {
      const src = await pa.read({ table: 't' });
      for await (const _ of src.batches) {
        /* drain */
      }
    });
    record('connector read (pg cursor -> Row batches)', pR);
  } finally {
    await Promise.all([pa.close(), pb.close(), mc.close()]);
    await Promise.all([a.drop(), b.drop(), my.drop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
