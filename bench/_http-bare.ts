/**
 * The baseline of bench/http.ts: what one would write by hand to load a paginated JSON API into
 * PostgreSQL — undici asks one page at a time (`?page=N&per_page=M`), each page is parsed with
 * JSON.parse, turned into CSV lines and written into one `COPY … FROM STDIN` (pg-copy-streams), until a
 * page has no records. Prints one JSON line: seconds, CPU seconds, rows, peak RSS.
 *   node --import tsx bench/_http-bare.ts '{"url":"http://127.0.0.1:…/items","pgUrl":"postgres://…","pageSize":1000}'
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Agent, request } from 'undici';

interface Args {
  url: string;
  pgUrl: string;
  pageSize: number;
}

interface Item {
  id: number;
  name: string;
  city: string;
  amount: number;
  created_at: string;
  active: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;

function csvText(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const client = new pg.Client({ connectionString: args.pgUrl });
await client.connect();
const agent = new Agent({ connections: 1 });
const copy = client.query(
  copyFrom('copy t (id, name, city, amount, created_at, active) from stdin (format csv)'),
);
const done = new Promise<void>((resolve, reject) => {
  copy.on('finish', () => resolve());
  copy.on('error', reject);
});
let rows = 0;
for (let page = 1; ; page++) {
  const res = await request(`${args.url}?page=${page}&per_page=${args.pageSize}`, { dispatcher: agent });
  if (res.statusCode !== 200) throw new Error(`page ${page}: ${res.statusCode} ${await res.body.text()}`);
  const doc = (await res.body.json()) as { data: Item[] };
  if (doc.data.length === 0) break;
  let chunk = '';
  for (const r of doc.data) {
    chunk += `${r.id},${csvText(r.name)},${csvText(r.city)},${r.amount},${r.created_at},${r.active}\n`;
  }
  rows += doc.data.length;
  if (!copy.write(chunk)) await new Promise((resolve) => copy.once('drain', resolve));
}
copy.end();
await done;
await client.end();
await agent.close();
console.log(
  JSON.stringify({
    seconds: (performance.now() - t0) / 1000,
    cpuSeconds: ((c) => (c.user + c.system) / 1e6)(process.cpuUsage(cpu0)),
    rows,
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
