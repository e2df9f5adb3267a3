/**
 * When a CSV file's bytes can go to or come from a database's COPY untouched. Reading a CSV file through
 * the format changes nothing in the values only for UTF-8, a header line, no trim, no column renames and
 * the null rule PostgreSQL COPY CSV also follows (an unquoted field equal to nullValue is null, a quoted
 * one is text). Anything else needs the row path.
 */
import { AppError } from '../../core/errors.js';
import { CsvOptionsSchema } from '../../formats/csv.js';
import { readOptions } from '../../formats/options.js';
import type { CsvCopyOptions, FormatSpec } from '../connector.js';

/** COPY takes one-byte delimiter, quote and escape characters. */
function oneByte(ch: string): boolean {
  return ch.length === 1 && ch.charCodeAt(0) < 0x80 && ch !== '\r' && ch !== '\n';
}

/**
 * The CSV dialect of a files source or destination when the byte fast path applies to it, else
 * undefined. Pure: the flow engine calls it to decide between copyOut/copyIn and the row path without
 * trying either. Invalid options give undefined (the row path then reports them).
 */
export function csvFastPathOptions(format: FormatSpec | undefined): CsvCopyOptions | undefined {
  if (format?.type !== 'csv') return undefined;
  let o: ReturnType<typeof readCsvOptions>;
  try {
    o = readCsvOptions(format.options);
  } catch {
    return undefined;
  }
  if (o.encoding !== 'utf8' || !o.header || o.columns !== undefined || o.trim || !o.distinguishQuoted) {
    return undefined;
  }
  const { delimiter, quote, escape: esc, nullValue } = o;
  if (!oneByte(delimiter) || !oneByte(quote) || !oneByte(esc) || delimiter === quote) return undefined;
  // COPY refuses a null text containing the delimiter or the quote, and a line break would split records.
  if ([delimiter, quote, '\r', '\n'].some((c) => nullValue.includes(c))) return undefined;
  return { delimiter, quote, escape: esc, header: true, nullValue };
}

function readCsvOptions(options: Record<string, unknown> | undefined) {
  return readOptions(CsvOptionsSchema, options ?? {}, 'csv');
}

/** Both sides of a copy read the bytes the same way (PostgreSQL's defaults fill what is left out). */
export function sameCsvDialect(a: CsvCopyOptions, b: CsvCopyOptions): boolean {
  const norm = (o: CsvCopyOptions) => {
    const quote = o.quote ?? '"';
    return [o.delimiter ?? ',', quote, o.escape ?? quote, o.header !== false, o.nullValue ?? ''].join('\0');
  };
  return norm(a) === norm(b);
}

/** The dialect the fast path uses for `format`, checked against what the caller asked for. */
export function requireCsvFastPath(
  format: FormatSpec | undefined,
  csvOptions: CsvCopyOptions,
  what: string,
): CsvCopyOptions {
  const dialect = csvFastPathOptions(format);
  if (!dialect) {
    throw new AppError(
      'BAD_REQUEST',
      `The CSV byte fast path does not apply to ${what}: it needs format csv, encoding utf8, a header line, no trim or columns override, and distinguishQuoted; use the row path`,
    );
  }
  if (!sameCsvDialect(dialect, csvOptions)) {
    throw new AppError(
      'BAD_REQUEST',
      `The CSV byte fast path does not apply to ${what}: its delimiter, quote, escape, header or nullValue differ from the other side's; use the row path`,
    );
  }
  return dialect;
}
