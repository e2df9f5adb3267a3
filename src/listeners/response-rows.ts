import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Row, RowStream } from '../core/records.js';
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
  let count = 0;
  const counted: RowStream = (async function* () {
    if (!head.done) {
      count += head.value.length;
      yield head.value;
    }
    for (let n = await it.next(); !n.done; n = await it.next()) {
      count += n.value.length;
      yield n.value;
    }
  })();
  const type = outputFormat(spec, request.headers.accept);
  const bytes = Readable.from(bindFormat({ type }).write(counted, {}));
  void reply
    .code(spec.response?.status ?? 200)
    .type(getFormat(type).mediaTypes[0] ?? 'application/octet-stream')
    .send(bytes);
  await finished(bytes);
  outcome({ kind: 'streamed', rows: count });
  return count;
}
