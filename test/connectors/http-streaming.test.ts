/**
 * A large HTTP answer streams into record batches: the first batch comes out while the API is still
 * holding back the rest of the body (a reader that buffered the answer whole would wait forever), the
 * batches stay bounded, and heap use stays far below the answer's size. Against a real node:http server.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { httpConnectorType } from '../../src/connectors/http/http-connector.js';
import { connectorContext } from '../helpers/connector-context.js';
import { startTestApi, type TestApi } from './http-test-api.js';

const record = (i: number) => `{"id":${i},"name":"record ${i}","pad":"${'x'.repeat(80)}"}`;

/**
 * Writes records [from, to) as part of a JSON array (after others when `more`), waiting for the socket
 * as it fills.
 */
async function writeRecords(res: ServerResponse, from: number, to: number, more = false): Promise<void> {
  for (let i = from; i < to; i += 1000) {
    const end = Math.min(to, i + 1000);
    const parts: string[] = [];
    for (let j = i; j < end; j++) parts.push((j === from && !more ? '' : ',') + record(j));
    if (!res.write(parts.join(''))) await new Promise((done) => res.once('drain', done));
  }
}

describe('http source: large answers stream in bounded batches', () => {
  let api: TestApi;
  let http: Connector;

  beforeAll(async () => {
    api = await startTestApi();
    http = await httpConnectorType.create(
      { baseUrl: api.url, retries: 0, maxResponseBytes: 256 * 1024 * 1024 },
      connectorContext('/tmp'),
    );
  });
  afterAll(async () => {
    await http?.close();
    await api.close();
  });

  it('one answer of 300k records (~33 MB): batches come while the body is still arriving', async () => {
    const total = 300_000;
    let release: () => void = () => undefined;
    const firstBatchSeen = new Promise<void>((done) => {
      release = done;
    });
    let heldBack = false;
    api.route('/all', async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":[');
      await writeRecords(res, 0, 20_000);
      // The rest only once the reader has handed on a batch: buffering the whole answer would hang here.
      heldBack = true;
      await firstBatchSeen;
      await writeRecords(res, 20_000, total, true);
      res.end(']}');
    });
    const src = await http.read({ request: { method: 'GET', path: 'all', records: 'data' } });
    let n = 0;
    let largest = 0;
    let batches = 0;
    let peakHeap = 0;
    const before = process.memoryUsage().heapUsed;
    for await (const b of src.batches) {
      if (batches === 0) {
        expect(heldBack).toBe(true);
        release();
      }
      batches++;
      n += b.length;
      largest = Math.max(largest, b.length);
      expect(b[0]?.['id']).toBe(n - b.length);
      if (batches % 20 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - before);
    }
    expect(n).toBe(total);
    expect(batches).toBeGreaterThan(10);
    expect(largest).toBeLessThanOrEqual(10_000);
    // The whole answer parsed would be several times its 33 MB in objects; streaming holds a few batches.
    expect(peakHeap).toBeLessThan(100 * 1024 * 1024);
  });

  it('pages of 50k records each stream the same way, page after page', async () => {
    const pages = 4;
    const size = 50_000;
    api.route('/paged', async (req, res) => {
      const page = Number(req.url.searchParams.get('page'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      if (page <= pages) await writeRecords(res, (page - 1) * size, page * size);
      res.end(']');
    });
    const src = await http.read({
      request: { method: 'GET', path: 'paged', pagination: { type: 'page', stopOnEmptyPage: true } },
    });
    let n = 0;
    let largest = 0;
    let batches = 0;
    for await (const b of src.batches) {
      batches++;
      n += b.length;
      largest = Math.max(largest, b.length);
    }
    expect(n).toBe(pages * size);
    expect(batches).toBeGreaterThan(pages * 2);
    expect(largest).toBeLessThanOrEqual(10_000);
    expect(api.to('/paged').map((s) => s.url.searchParams.get('page'))).toEqual(['1', '2', '3', '4', '5']);
  });

  it('asks the next page while the current one is still arriving, and no page the pages would not ask', async () => {
    let secondAsked: () => void = () => undefined;
    const asked = new Promise<void>((done) => {
      secondAsked = done;
    });
    api.route('/ahead', async (req, res) => {
      const page = Number(req.url.searchParams.get('page'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      if (page === 1) {
        await writeRecords(res, 0, 10_000);
        // Page 1 ends only once page 2 is asked: a reader asking one page after the other would hang.
        await asked;
        await writeRecords(res, 10_000, 20_000, true);
      } else if (page === 2) {
        secondAsked();
        await writeRecords(res, 20_000, 25_000);
      }
      res.end(']');
    });
    // A connection that lets one request wait for its answer at a time: a request's place is given back
    // with the answer's headers, so the page asked ahead does not wait for the body still arriving.
    const single = await httpConnectorType.create(
      { baseUrl: api.url, retries: 0, concurrency: 1 },
      connectorContext('/tmp'),
    );
    try {
      const src = await single.read({
        request: { method: 'GET', path: 'ahead', pagination: { type: 'page', stopOnEmptyPage: true } },
      });
      let n = 0;
      for await (const b of src.batches) n += b.length;
      expect(n).toBe(25_000);
    } finally {
      await single.close();
    }
    // Page 3 is empty and ends the pages; nothing past it was asked.
    expect(api.to('/ahead').map((s) => s.url.searchParams.get('page'))).toEqual(['1', '2', '3']);

    const capped = await http.read({
      request: {
        method: 'GET',
        path: 'paged',
        pagination: { type: 'page', maxPages: 2, stopOnEmptyPage: true },
      },
    });
    const before = api.to('/paged').length;
    for await (const _ of capped.batches) {
      // drain
    }
    expect(
      api
        .to('/paged')
        .slice(before)
        .map((s) => s.url.searchParams.get('page')),
    ).toEqual(['1', '2']);
  });
});
