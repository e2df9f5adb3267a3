/**
 * Format throughput: writes 1,000,000 rows x 6 columns (int, text, text, numeric, timestamp, boolean) in
 * each format to a temp dir, then reads them back, reporting rows/s both ways and peak RSS. Each format
 * runs in its own child process so the RSS figure is that format's alone.
 *   node --import tsx bench/formats.ts [rows]
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Row, RowStream } from '../src/core/records.js';
import { bindFormat, FORMAT_TYPES } from '../src/formats/registry.js';

const BATCH = 5000;

async function* rows(count: number): RowStream {
  const base = Date.UTC(2024, 0, 1);
  for (let start = 0; start < count; start += BATCH) {
    const batch: Row[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      batch.push({
        id: i,
        name: `customer ${i}`,
        city: i % 7 === 0 ? 'Zürich, "Altstadt"' : 'Oslo',
        amount: (i * 1.37).toFixed(2),
        created_at: new Date(base + i * 1000),
        active: i % 2 === 0,
      });
    }
    yield batch;
  }
}

async function child(type: string, count: number, dir: string): Promise<void> {
  // csv-fast: the same CSV read with distinguishQuoted=false (every field equal to nullValue is null).
  const format =
    type === 'csv-fast'
      ? bindFormat({ type: 'csv', options: { distinguishQuoted: false } })
      : bindFormat({ type });
  const file = path.join(dir, `bench.${type}`);
  let t = performance.now();
  await pipeline(Readable.from(format.write(rows(count), {})), createWriteStream(file));
  const writeMs = performance.now() - t;
  t = performance.now();
  let n = 0;
  for await (const batch of format.read(createReadStream(file, { highWaterMark: 256 * 1024 }), {
    source: file,
  })) {
    n += batch.length;
  }
  const readMs = performance.now() - t;
  if (n !== count) throw new Error(`${type}: read ${n} rows, expected ${count}`);
  const { size } = await stat(file);
  const result = {
    format: type,
    mb: Math.round(size / 1e5) / 10,
    writeRowsPerSec: Math.round(count / (writeMs / 1000)),
    readRowsPerSec: Math.round(count / (readMs / 1000)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(JSON.stringify(result));
}

const [mode, arg1, arg2] = process.argv.slice(2);
if (mode === '--child') {
  await child(arg1!, Number(arg2), process.argv[5]!);
} else {
  const count = Number(mode ?? 1_000_000);
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-formats-'));
  const self = fileURLToPath(import.meta.url);
  console.log(`node ${process.version}, ${count.toLocaleString('en')} rows x 6 columns`);
  console.log('format   file MB   write rows/s   read rows/s   peak RSS MB');
  try {
    for (const type of [...FORMAT_TYPES, 'csv-fast']) {
      const out = execFileSync(
        process.execPath,
        ['--import', 'tsx', self, '--child', type, String(count), dir],
        {
          encoding: 'utf8',
        },
      );
      const r: Record<string, unknown> = JSON.parse(out);
      const cell = (v: unknown, w: number) =>
        String(typeof v === 'number' ? v.toLocaleString('en') : v).padStart(w);
      console.log(
        `${String(r['format']).padEnd(6)}${cell(r['mb'], 10)}${cell(r['writeRowsPerSec'], 15)}${cell(r['readRowsPerSec'], 14)}${cell(r['peakRssMb'], 14)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
