import { type Static, Type } from '@sinclair/typebox';
import { nestsTooDeep, tooDeepMessage } from '../core/nesting.js';
import { DEFAULT_BATCH_SIZE, type Row, type RowStream } from '../core/records.js';
import {
  type ByteSource,
  DEFAULT_MAX_RECORD_SIZE,
  defineFormat,
  type ReadContext,
  type WriteContext,
} from './format.js';
import { formatError } from './format-error.js';
import { parseJson, stringifyJson } from './json-exact.js';
import { isRow } from './rows.js';
import { decodeText, encodeText, textOptions } from './text.js';

export const NdjsonOptionsSchema = Type.Object({ ...textOptions }, { additionalProperties: false });

export type NdjsonOptions = Static<typeof NdjsonOptionsSchema>;

/** One JSON object per line; blank lines are skipped; a bad line is reported by its number. */
async function* readNdjson(input: ByteSource, o: NdjsonOptions, ctx: ReadContext): RowStream {
  const batchSize = ctx.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxRecord = ctx.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
  let rest = '';
  let line = 0;
  const batch: Row[] = [];
  const take = (text: string): void => {
    line++;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (err) {
      throw formatError(
        ctx.source,
        `line ${line}`,
        `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    if (!isRow(value)) throw formatError(ctx.source, `line ${line}`, 'not a JSON object');
    if (nestsTooDeep(value)) throw formatError(ctx.source, `line ${line}`, tooDeepMessage('the record'));
    batch.push(value);
  };
  for await (const chunk of decodeText(input, o, ctx.source)) {
    const text = rest === '' ? chunk : rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    if (rest.length > maxRecord) {
      throw formatError(
        ctx.source,
        `line ${line + 1}`,
        `a record is longer than the maximum record size (${maxRecord} characters); is a line end missing?`,
      );
    }
    while (batch.length >= batchSize) {
      ctx.signal?.throwIfAborted();
      yield batch.splice(0, batchSize);
    }
  }
  if (rest !== '') take(rest);
  while (batch.length > batchSize) yield batch.splice(0, batchSize);
  if (batch.length > 0) yield batch;
}

async function* writeNdjson(
  rows: RowStream,
  o: NdjsonOptions,
  ctx: WriteContext,
): AsyncGenerator<string | Uint8Array> {
  for await (const batch of rows) {
    ctx.signal?.throwIfAborted();
    if (batch.length === 0) continue;
    let out = '';
    for (const row of batch) out += stringifyJson(row) + '\n';
    yield encodeText(out, o.encoding);
  }
}

export const ndjsonFormat = defineFormat({
  type: 'ndjson',
  optionsSchema: NdjsonOptionsSchema,
  mediaTypes: ['application/x-ndjson', 'application/ndjson', 'application/jsonl'],
  extensions: ['ndjson', 'jsonl'],
  read: readNdjson,
  write: writeNdjson,
});
