import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { oneBatch, type Row, type RowStream } from '../core/records.js';
import type { FormatType } from '../formats/format.js';
import { bindFormat, getFormat } from '../formats/registry.js';
import type { ListenerSpec } from './listener-schema.js';

/** Output formats by what an Accept header asks for, most specific media types first. */
const ACCEPTED: [string, FormatType][] = [
  ['text/csv', 'csv'],
  ['application/x-ndjson', 'ndjson'],
  ['application/xml', 'xml'],
  ['text/xml', 'xml'],
  ['application/json', 'json'],
];

/** The format of a data API's answer: the listener's, or the first one the Accept header names, or JSON. */
export function outputFormat(spec: ListenerSpec, accept: string | undefined): FormatType {
  if (spec.response?.format) return spec.response.format;
  const wanted = (accept ?? '').toLowerCase();
  let best: { at: number; type: FormatType } | undefined;
  for (const [media, type] of ACCEPTED) {
    const at = wanted.indexOf(media);
    if (at >= 0 && (!best || at < best.at)) best = { at, type };
  }
  return best?.type ?? 'json';
}

/** What the flow's `@response` rows became: streamed already, or one row held for the handler to send. */
export type RowsOutcome = { kind: 'streamed'; rows: number } | { kind: 'single'; row: Row | undefined };

/**
 * Receives the rows a flow writes to `@response`. As one object (`single`), the first row is held until
 * the run has succeeded. As a list, the first batch is awaited before the status line goes out (so a
 * query that fails at once still gets a clean 500), then rows stream in the chosen format with
 * back-pressure from the socket.
 */
export async function respondWithRows(
  request: FastifyRequest,
  reply: FastifyReply,
  spec: ListenerSpec,
  rows: RowStream,
  outcome: (o: RowsOutcome) => void,
): Promise<number> {
  if (spec.response?.single) {
    for await (const batch of rows) {
      if (batch.length > 0) {
        outcome({ kind: 'single', row: batch[0] });
        return 1;
      }
    }
    outcome({ kind: 'single', row: undefined });
    return 0;
  }
  const it = rows[Symbol.asyncIterator]();
  const head = await it.next();
  const type = outputFormat(spec, request.headers.accept);
  const format = bindFormat({ type });
  const mediaType = getFormat(type).mediaTypes[0] ?? 'application/octet-stream';
  const second = head.done ? head : await it.next();
  if (second.done) {
    // The whole answer is one batch (a data API's usual few rows): one string with a Content-Length,
    // not a stream with chunked encoding.
    const all = head.done ? [] : head.value;
    const body = await collect(format.write(oneBatch(all), {}));
    void reply
      .code(spec.response?.status ?? 200)
      .type(mediaType)
      .send(body);
    outcome({ kind: 'streamed', rows: all.length });
    return all.length;
  }
  let count = 0;
  const counted: RowStream = (async function* () {
    for (const n of [head, second]) {
      if (n.done) continue;
      count += n.value.length;
      yield n.value;
    }
    for (let n = await it.next(); !n.done; n = await it.next()) {
      count += n.value.length;
      yield n.value;
    }
  })();
  const bytes = Readable.from(format.write(counted, {}));
  void reply
    .code(spec.response?.status ?? 200)
    .type(mediaType)
    .send(bytes);
  await finished(bytes);
  outcome({ kind: 'streamed', rows: count });
  return count;
}

/** A writer's whole output: one string, or bytes when it writes another encoding than UTF-8. */
async function collect(chunks: AsyncIterable<string | Uint8Array>): Promise<string | Buffer> {
  const parts: (string | Uint8Array)[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}
