/**
 * Expression engine comparison and transform throughput.
 *   node --import tsx bench/expressions.ts
 * Compares, on the same machine and rows: a hand-written JS closure (the ceiling), our compiled
 * closure tree, filtrex (compiles to JS with new Function) and JSONata (interpreted, async).
 * Then measures the full mapping of the bulk benchmark (two renames, one computed column, one filter)
 * over 1M rows of 6 columns.
 */
import { compileExpression as filtrex } from 'filtrex';
import jsonata from 'jsonata';
import type { Row } from '../src/core/records.js';
import { compileTransforms } from '../src/transforms/builtin-transforms.js';
import { compileExpression } from '../src/transforms/expression.js';

const ROWS = 1_000_000;
const DISTINCT = 1000;
const rows: Row[] = Array.from({ length: DISTINCT }, (_, i) => ({
  id: i,
  name: `customer ${i}`,
  price: (i % 97) + 0.5,
  qty: i % 7,
  city: i % 2 ? 'Berlin' : 'Lyon',
  created: '2024-03-15',
}));

type Fn = (row: Row) => unknown;

function rate(fn: Fn, n: number): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) if (fn(rows[i % DISTINCT]!) !== undefined) sink++; // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (fn(rows[i % DISTINCT]!) !== undefined) sink++;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(sink);
  return n / seconds;
}

async function rateAsync(fn: (row: Row) => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < 2_000; i++) await fn(rows[i % DISTINCT]!);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn(rows[i % DISTINCT]!);
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

const fmt = (r: number) => `${(r / 1e6).toFixed(2)} M/s`.padStart(12);

const cases: { name: string; ours: string; native: Fn; filtrex: string; jsonata: string }[] = [
  {
    name: 'price * qty',
    ours: 'price * qty',
    native: (r) => Number(r.price) * Number(r.qty),
    filtrex: 'price * qty',
    jsonata: 'price * qty',
  },
  {
    name: 'upper(name)',
    ours: 'upper(name)',
    native: (r) => String(r.name).toUpperCase(),
    filtrex: 'upper(name)',
    jsonata: '$uppercase(name)',
  },
  {
    name: "qty > 2 and city = 'Berlin'",
    ours: "qty > 2 and city = 'Berlin'",
    native: (r) => Number(r.qty) > 2 && r.city === 'Berlin',
    filtrex: 'qty > 2 and city == "Berlin"',
    jsonata: "qty > 2 and city = 'Berlin'",
  },
];

console.log(`Expression evaluations per second (${ROWS.toLocaleString()} evaluations; JSONata 100k)`);
console.log(
  `${'expression'.padEnd(30)}${'native JS'.padStart(12)}${'ours'.padStart(12)}${'filtrex'.padStart(12)}${'JSONata'.padStart(12)}`,
);
for (const c of cases) {
  const ours = compileExpression(c.ours, 'bench');
  const params = {};
  const fx = filtrex(c.filtrex, { extraFunctions: { upper: (s: string) => String(s).toUpperCase() } });
  const jn = jsonata(c.jsonata);
  const results = [
    rate(c.native, ROWS),
    rate((r) => ours(r, params), ROWS),
    rate((r) => fx(r), ROWS),
    await rateAsync((r) => jn.evaluate(r), 100_000),
  ];
  console.log(`${c.name.padEnd(30)}${results.map(fmt).join('')}`);
}

// Full mapping: as the bulk benchmark uses it.
const BATCH = 5000;
const source: Row[][] = [];
for (let b = 0; b < ROWS / BATCH; b++) {
  source.push(Array.from({ length: BATCH }, (_, i) => ({ ...rows[(b * BATCH + i) % DISTINCT]! })));
}
async function* stream() {
  for (const batch of source) yield batch;
}
const chain = compileTransforms(
  [
    { type: 'map', rename: { id: 'order_id', name: 'customer' }, compute: { total: 'price * qty' } },
    { type: 'filter', where: 'qty > 0' },
  ],
  'bench',
);
for (let round = 0; round < 3; round++) {
  let out = 0;
  const start = process.hrtime.bigint();
  for await (const batch of chain.apply(stream(), {})) out += batch.length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(
    `full mapping (2 renames, 1 computed, 1 filter), 1M rows x 6 columns: ${fmt(ROWS / seconds).trim()} rows (${out} kept, ${seconds.toFixed(3)} s)`,
  );
}
