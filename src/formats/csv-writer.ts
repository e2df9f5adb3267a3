import { fieldOf, type RowStream } from '../core/records.js';
import type { CsvOptions } from './csv-options.js';
import type { WriteContext } from './format.js';
import { columnNames } from './rows.js';
import { encodeText, textOf } from './text.js';

/**
 * CSV out. Hand-written rather than csv-stringify because csv-stringify renders null and "" the same way
 * (and quotes both with quoted_empty), which would lose the null/empty distinction the reader keeps; the
 * quoting rule here is the reader's rule in reverse, so write -> read round-trips exactly.
 */
export async function* writeCsv(
  rows: RowStream,
  o: CsvOptions,
  ctx: WriteContext,
): AsyncGenerator<string | Uint8Array> {
  const { delimiter, quote, nullValue, recordDelimiter } = o;
  const escapedQuote = o.escape + quote;
  const needsQuote = new RegExp(`[${escapeClass(delimiter)}${escapeClass(quote)}\\r\\n]|^\\s|\\s$`);
  // With a distinct escape character (e.g. backslash), the reader and COPY also take escape+escape inside
  // quotes as one escape character, so a literal one is doubled there ('a\' must not end as '"a\"').
  const distinctEscape = o.escape !== quote ? o.escape : undefined;
  const field = (value: unknown): string => {
    if (value === null || value === undefined) return nullValue;
    const text = textOf(value);
    if (text === nullValue || needsQuote.test(text)) {
      const body = distinctEscape ? text.split(distinctEscape).join(distinctEscape + distinctEscape) : text;
      return quote + body.split(quote).join(escapedQuote) + quote;
    }
    return text;
  };
  let names: string[] | undefined;
  if (ctx.columns && ctx.columns.length > 0) names = columnNames(ctx.columns, undefined);
  let headerDone = !o.header;
  if (names && !headerDone) {
    yield encodeText(names.map(field).join(delimiter) + recordDelimiter, o.encoding);
    headerDone = true;
  }
  for await (const batch of rows) {
    ctx.signal?.throwIfAborted();
    if (batch.length === 0) continue;
    if (!names) names = columnNames(undefined, batch[0]);
    let out = '';
    if (!headerDone) {
      out = names.map(field).join(delimiter) + recordDelimiter;
      headerDone = true;
    }
    for (const row of batch) {
      let line = '';
      for (let i = 0; i < names.length; i++) {
        if (i > 0) line += delimiter;
        line += field(fieldOf(row, names[i]!));
      }
      out += line + recordDelimiter;
    }
    yield encodeText(out, o.encoding);
  }
}

function escapeClass(ch: string): string {
  return ch.replace(/[\\\]^-]/g, '\\$&');
}
