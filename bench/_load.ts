/**
 * The load generator of bench/listeners.ts, run as its own process so that it does not compete with
 * the server under test for the same event loop. Prints one JSON line with the autocannon summary.
 *   node --import tsx bench/_load.ts '{"url":…,"method":…,"headers":{…},"seconds":10,"connections":50,"firstId":1}'
 */
import autocannon from 'autocannon';

interface Args {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  seconds: number;
  connections: number;
  firstId: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
let nextId = args.firstId;
const r = await autocannon({
  url: args.url,
  connections: args.connections,
  duration: args.seconds,
  requests: [
    {
      method: args.method,
      headers: args.headers,
      // A distinct id per request so every insert is a new row.
      setupRequest: (req) =>
        args.method === 'POST'
          ? { ...req, body: JSON.stringify({ patientid: ++nextId, name: 'bench' }) }
          : req,
    },
  ],
});
console.log(
  JSON.stringify({
    rps: Math.round(r.requests.average),
    total: r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  }),
);
