/**
 * The paginated JSON API of bench/http.ts, run as its own process so that serving pages does not
 * compete with the client under test for one event loop. Every page is rendered once, up front:
 * `GET /items?page=N&per_page=M` answers `{"page":N,"data":[…]}` (an empty `data` past the last page).
 * Prints `{"port":…}` once listening; exits when its stdin closes.
 *   node --import tsx bench/_http-api.ts '{"rows":500000,"pageSize":1000}'
 */
import { createServer } from 'node:http';

interface Args {
  rows: number;
  pageSize: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const CITIES = ['Zürich', 'New York', 'São Paulo', 'Tokyo, "East"', 'Paris'];
const BASE_MS = Date.UTC(2024, 0, 1);

function record(i: number): string {
  const ts = new Date(BASE_MS + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
  return JSON.stringify({
    id: i,
    name: `name ${i}`,
    city: CITIES[i % CITIES.length],
    amount: (i % 100000) / 100,
    created_at: ts,
    active: i % 2 === 0,
  });
}

const pages: Buffer[] = [];
for (let first = 0, page = 1; first < args.rows; first += args.pageSize, page++) {
  const parts: string[] = [];
  for (let i = first; i < Math.min(args.rows, first + args.pageSize); i++) parts.push(record(i));
  pages.push(Buffer.from(`{"page":${page},"data":[${parts.join(',')}]}`));
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const page = Number(url.searchParams.get('page') ?? '1');
  if (url.pathname !== '/items' || Number(url.searchParams.get('per_page')) !== args.pageSize) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(`{"error":"ask /items?page=N&per_page=${args.pageSize}"}`);
    return;
  }
  const body = pages[page - 1] ?? Buffer.from(`{"page":${page},"data":[]}`);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
