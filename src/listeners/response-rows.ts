import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { oneBatch, type Row, type RowStream } from '../core/records.js';
import type { FormatType } from '../formats/format.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { BuiltinFormatType } from '../formats/registry.js';
import type { ListenerSpec } from './listener-schema.js';

/** What a data API answers in when neither the listener nor the Accept header says. */
const DEFAULT_OUTPUT: BuiltinFormatType = 'json';

/**
 * The format of a data API's answer: the listener's, or the first registered one whose media type the
 * Accept header names, or JSON.
 */
export function outputFormat(
  formats: FormatRegistry,
  spec: ListenerSpec,
  accept: string | undefined,
): FormatType {
  return spec.response?.format ?? formats.forAccept(accept)?.type ?? DEFAULT_OUTPUT;
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
  formats: FormatRegistry,
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
  const format = formats.bind({ type: outputFormat(formats, spec, request.headers.accept) });
  const mediaType = format.format.mediaTypes[0] ?? 'application/octet-stream';
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
