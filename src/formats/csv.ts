import { type Static, Type } from '@sinclair/typebox';
import { CsvError, type Options as ParseOptions, Parser } from 'csv-parse';
import { DEFAULT_BATCH_SIZE, type Row, type RowStream } from '../core/records.js';
import { quotedFields } from './csv-quoting.js';
import { writeCsv } from './csv-writer.js';
import type { ByteSource, Format, ReadContext } from './format.js';
import { formatError } from './format-error.js';
import { isRow } from './rows.js';
import { EncodingSchema } from './text.js';

const Char = (def: string, description: string) =>
  Type.String({ minLength: 1, maxLength: 1, default: def, description });

export const CsvOptionsSchema = Type.Object(
  {
    delimiter: Char(',', 'Field separator, one character (";" and "\\t" are common).'),
    quote: Char('"', 'Character that encloses fields containing separators, quotes or line breaks.'),
    escape: Char('"', 'Character that escapes a quote inside a quoted field (the quote itself by default).'),
    header: Type.Boolean({ default: true, description: 'The first line holds the column names.' }),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description:
          'Column names. With header=false they name the fields (default col1..colN); with header=true they replace the header names.',
      }),
    ),
    nullValue: Type.String({
      default: '',
      description:
        'Unquoted text that means null. Default: an empty unquoted field is null, while "" (quoted) is an empty string.',
    }),
    distinguishQuoted: Type.Boolean({
      default: true,
      description:
        'Keep a quoted field equal to nullValue (e.g. "") as text rather than null. Costs about 3x parse time (csv-parse must keep each raw line); set false for the fastest reads when the difference does not matter.',
    }),
    encoding: EncodingSchema,
    skipEmptyLines: Type.Boolean({ default: true, description: 'Ignore lines with no characters.' }),
    trim: Type.Boolean({ default: false, description: 'Remove spaces around unquoted fields.' }),
    recordDelimiter: Type.Union([Type.Literal('\n'), Type.Literal('\r\n')], {
      default: '\n',
      description: 'Line ending written after each record (reading accepts both).',
    }),
  },
  { additionalProperties: false },
);

export type CsvOptions = Static<typeof CsvOptionsSchema>;

/** Turns csv-parse's errors into "source line N: what" with the wording a user understands. */
function csvError(err: unknown, source: string): Error {
  if (!(err instanceof CsvError)) return err instanceof Error ? err : new Error(String(err));
  const info: Record<string, unknown> = { ...err };
  const line = typeof info['lines'] === 'number' ? info['lines'] : undefined;
  const where = line === undefined ? 'input' : `line ${line}`;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return formatError(source, where, 'unclosed quote', err);
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      const got = Array.isArray(info['record']) ? info['record'].length : '?';
      const expected = typeof info['columns'] === 'object' ? 'the header' : 'the first line';
      return formatError(
        source,
        where,
        `wrong field count: ${got} fields, ${expected} has a different number`,
        err,
      );
    }
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return formatError(source, where, 'unexpected character after a closing quote', err);
    default:
      return formatError(source, where, err.message, err);
  }
}

function parserOptions(o: CsvOptions): ParseOptions {
  return {
    delimiter: o.delimiter,
    quote: o.quote,
    escape: o.escape,
    // Arrays, not objects: field positions are needed to match the quoting scan, and header names that
    // look like integers would otherwise reorder object keys.
    columns: false,
    skip_empty_lines: o.skipEmptyLines,
    trim: o.trim,
    // csv-parse only tells whether a field was quoted through a per-field cast callback, which costs
    // 6-7x its parse speed; the raw line is nearly free and is rescanned only when a field equals nullValue.
    raw: o.distinguishQuoted,
    encoding: o.encoding,
    bom: true,
  };
}

async function* readCsv(input: ByteSource, o: CsvOptions, ctx: ReadContext): RowStream {
  const batchSize = ctx.batchSize ?? DEFAULT_BATCH_SIZE;
  const parser = new Parser(parserOptions(o));
  let failure: unknown;
  parser.on('error', (e) => {
    failure = e;
  });
  const { nullValue, quote } = o;
  let names: string[] | undefined = o.header ? undefined : o.columns ? [...o.columns] : [];
  let batch: Row[] = [];
  /** Returns the row for a parsed record, or undefined for the header line. */
  const toRow = (rec: unknown): Row | undefined => {
    const fields: unknown[] = Array.isArray(rec)
      ? rec
      : isRow(rec) && Array.isArray(rec['record'])
        ? rec['record']
        : [];
    if (names === undefined) {
      names = o.columns ? [...o.columns] : fields.map(String);
      return undefined;
    }
    while (names.length < fields.length) names.push(`col${names.length + 1}`);
    let quoted: boolean[] | undefined;
    const row: Row = {};
    for (let i = 0; i < fields.length; i++) {
      let value = fields[i];
      if (value === nullValue) {
        if (!o.distinguishQuoted) {
          row[names[i]!] = null;
          continue;
        }
        const raw = isRow(rec) && typeof rec['raw'] === 'string' ? rec['raw'] : '';
        if (raw.indexOf(quote) === -1) value = null;
        else {
          quoted ??= quotedFields(raw, o);
          if (!quoted[i]) value = null;
        }
      }
      row[names[i]!] = value;
    }
    return row;
  };
  try {
    // Bytes go to csv-parse as they are: it decodes (and drops a BOM) itself, faster than a string detour.
    for await (const text of input) {
      ctx.signal?.throwIfAborted();
      parser.write(text);
      if (failure !== undefined) throw csvError(failure, ctx.source);
      // csv-parse transforms synchronously, so the records of this chunk are already buffered.
      for (let rec = parser.read(); rec !== null; rec = parser.read()) {
        const row = toRow(rec);
        if (row) batch.push(row);
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    }
    parser.end();
    // The tail (last line, flush errors) arrives asynchronously; the iterator waits for end or error.
    for await (const rec of parser) {
      const row = toRow(rec);
      if (row) batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    throw csvError(failure ?? err, ctx.source);
  } finally {
    parser.destroy();
  }
  if (failure !== undefined) throw csvError(failure, ctx.source);
  if (batch.length > 0) yield batch;
}

export const csvFormat: Format<CsvOptions> = {
  type: 'csv',
  optionsSchema: CsvOptionsSchema,
  mediaTypes: ['text/csv', 'application/csv', 'text/comma-separated-values'],
  extensions: ['csv'],
  read: readCsv,
  write: writeCsv,
};
