/**
 * The CSV a file's bytes speak on the byte fast path. Reading a CSV file through the format changes
 * nothing in the values only with a header line (copyOut names the columns from it), no trim, no column
 * renames and the null rule COPY CSV also follows (an unquoted field equal to nullValue is null, a quoted
 * one is text). Anything else needs the row path. A file's bytes are what they are: its offer adapts
 * nothing, so the other side must speak its dialect.
 */
import { AppError } from '../../core/errors.js';
import { CsvByteGuard } from '../../formats/csv-byte-guard.js';
import {
  type CsvDialect,
  type CsvDialectOffer,
  carriedCsvDialect,
  offerTakes,
} from '../../formats/csv-dialect.js';
import { CsvOptionsSchema } from '../../formats/csv-options.js';
import { canonicalEncoding } from '../../formats/encodings.js';
import { readOptions } from '../../formats/options.js';
import type { CsvCopyOptions, FormatSpec } from '../connector.js';

/**
 * The dialect of a file in `format` when its bytes can stand for its values, else undefined. Pure, and
 * invalid options give undefined (the row path then reports them).
 */
export function fileCsvDialect(format: FormatSpec | undefined): CsvDialect | undefined {
  if (format?.type !== 'csv') return undefined;
  let o: ReturnType<typeof readCsvOptions>;
  try {
    o = readCsvOptions(format.options);
  } catch {
    return undefined;
  }
  // Bytes read as U+FFFD on the row path would reach COPY as they are.
  // COPY reads a quote inside an unquoted field as the start of a quoted one: lenient files need rows.
  if (
    o.invalidBytes !== 'error' ||
    !o.header ||
    o.columns !== undefined ||
    o.trim ||
    !o.distinguishQuoted ||
    o.lenientQuotes
  )
    return undefined;
  const { delimiter, quote, nullValue } = o;
  return {
    delimiter,
    quote,
    escape: o.escape,
    nullValue,
    header: true,
    encoding: canonicalEncoding(o.encoding),
  };
}

function readCsvOptions(options: Record<string, unknown> | undefined) {
  return readOptions(CsvOptionsSchema, options ?? {}, 'csv');
}

/** What a file's copy paths offer: its own dialect, nothing else. */
export function fileCsvOffer(format: FormatSpec | undefined): CsvDialectOffer | undefined {
  const dialect = fileCsvDialect(format);
  return dialect && { dialect, adapts: [] };
}

/** The dialect the fast path uses for `format`, checked against what the caller asked for. */
export function requireCsvFastPath(
  format: FormatSpec | undefined,
  csvOptions: CsvCopyOptions,
  what: string,
): CsvDialect {
  const offer = fileCsvOffer(format);
  if (!offer || !carriedCsvDialect(offer.dialect)) {
    throw new AppError(
      'BAD_REQUEST',
      `The CSV byte fast path does not apply to ${what}: it needs format csv, encoding utf8, a header line, no trim or columns override, and distinguishQuoted; use the row path`,
    );
  }
  if (!offerTakes(offer, csvOptions)) {
    throw new AppError(
      'BAD_REQUEST',
      `The CSV byte fast path does not apply to ${what}: its delimiter, quote, escape, header or nullValue differ from the other side's; use the row path`,
    );
  }
  return offer.dialect;
}

/**
 * The bytes of a file in `format` (a dialect fileCsvDialect accepted) as the row path would take them:
 * stopped with the reader's error at the first record it would refuse, empty lines left out.
 */
export async function* guardedCsvBytes(
  bytes: AsyncIterable<Uint8Array>,
  format: FormatSpec | undefined,
  dialect: CsvDialect,
  source: string,
): AsyncGenerator<Uint8Array> {
  const { skipEmptyLines } = readCsvOptions(format?.options);
  const guard = new CsvByteGuard({ ...dialect, skipEmptyLines, source });
  for await (const chunk of bytes) yield* guard.push(chunk);
  yield* guard.end();
}
