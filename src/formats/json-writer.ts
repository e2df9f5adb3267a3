import type { RowStream } from '../core/records.js';
import type { WriteContext } from './format.js';
import { stringifyJson } from './json-exact.js';
import type { JsonOptions } from './json-options.js';
import { encodeText } from './text.js';

/**
 * A JSON array, one chunk per batch. Dates serialize as ISO strings, Decimal and bigint as numbers with
 * every digit (stringifyJson); with pretty=false each record sits on its own line, which keeps files
 * diffable and greppable at no cost.
 */
export async function* writeJson(
  rows: RowStream,
  o: JsonOptions,
  ctx: WriteContext,
): AsyncGenerator<string | Uint8Array> {
  let first = true;
  const indent = o.pretty ? 2 : undefined;
  const sep = o.pretty ? ',\n  ' : ',\n';
  yield encodeText(o.pretty ? '[\n  ' : '[\n', o.encoding);
  for await (const batch of rows) {
    ctx.signal?.throwIfAborted();
    if (batch.length === 0) continue;
    let out = '';
    for (const row of batch) {
      let text = stringifyJson(row, indent);
      if (o.pretty) text = text.replace(/\n/g, '\n  ');
      out += first ? text : sep + text;
      first = false;
    }
    yield encodeText(out, o.encoding);
  }
  yield encodeText(first ? ']\n' : '\n]\n', o.encoding);
}
