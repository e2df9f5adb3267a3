import { DEFAULT_BATCH_SIZE, type Row, type RowStream } from '../core/records.js';
import { type CsvOptions, CsvOptionsSchema } from './csv-options.js';
import { CsvScanner, CsvSyntaxError } from './csv-scan.js';
import { writeCsv } from './csv-writer.js';
import { type ByteSource, defineFormat, type ReadContext } from './format.js';
import { formatError } from './format-error.js';
import { setField } from './rows.js';
import { decodeText } from './text.js';
import { TextCursor } from './text-cursor.js';

async function* readCsv(input: ByteSource, o: CsvOptions, ctx: ReadContext): RowStream {
  const batchSize = ctx.batchSize ?? DEFAULT_BATCH_SIZE;
  const cur = new TextCursor(decodeText(input, o, ctx.source), ctx);
  const scanner = new CsvScanner(cur, o);
  const { nullValue } = o;
  let names: string[] | undefined = o.header ? undefined : o.columns ? [...o.columns] : [];
  let protoName = names?.includes('__proto__') ?? false;
  /** Every record has as many fields as the first one (the header when there is one). */
  let width = -1;
  let batch: Row[] = [];
  const fields = scanner.fields;
  const fail = (line: number, message: string): Error => formatError(ctx.source, `line ${line}`, message);
  try {
    for (;;) {
      let got: boolean;
      try {
        got = scanner.next();
      } catch (err) {
        if (err instanceof CsvSyntaxError) throw fail(err.line, err.message);
        throw err;
      }
      if (!got) {
        if (await cur.more()) continue;
        if (cur.pos < cur.buf.length) continue;
        break;
      }
      const n = fields.length;
      if (width === -1) width = n;
      else if (n !== width) {
        const expected = o.header ? 'the header' : 'the first line';
        throw fail(scanner.recordLine, `wrong field count: ${n} fields, ${expected} has a different number`);
      }
      if (names === undefined) {
        names = o.columns ? [...o.columns] : fields.map((f) => f ?? nullValue);
        protoName = names.includes('__proto__');
        continue;
      }
      while (names.length < n) names.push(`col${names.length + 1}`);
      const row: Row = {};
      if (protoName) for (let i = 0; i < n; i++) setField(row, names[i]!, fields[i]);
      else for (let i = 0; i < n; i++) row[names[i]!] = fields[i];
      batch.push(row);
      if (batch.length >= batchSize) {
        ctx.signal?.throwIfAborted();
        yield batch;
        batch = [];
      }
    }
  } finally {
    await cur.close();
  }
  if (batch.length > 0) yield batch;
}

export const csvFormat = defineFormat({
  type: 'csv',
  optionsSchema: CsvOptionsSchema,
  mediaTypes: ['text/csv', 'application/csv', 'text/comma-separated-values'],
  extensions: ['csv'],
  read: readCsv,
  write: writeCsv,
});
