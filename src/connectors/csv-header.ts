/**
 * The byte fast paths need the CSV header's column names before the bytes go to the database
 * (COPY and LOAD DATA take an explicit column list). This reads just the first line and hands back a
 * stream that replays it, so nothing else is buffered.
 */
import { AppError } from '../core/errors.js';
import type { Column } from '../core/records.js';
import type { ByteSource } from '../formats/format.js';
import { requireTable } from './columns.js';
import type { CsvCopyOptions, DestinationSpec } from './connector.js';

export interface PeekedCsv {
  header: string[];
  /** The first line ended with CRLF. */
  crlf: boolean;
  /** All bytes, the header line included. */
  bytes: AsyncIterable<Uint8Array>;
}

const MAX_HEADER = 1 << 20;

export async function peekCsvHeader(source: ByteSource, delimiter = ',', quote = '"'): Promise<PeekedCsv> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  let lineEnd = -1;
  let joined = Buffer.alloc(0);
  while (lineEnd === -1) {
    const r = await it.next();
    if (r.done) break;
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : Buffer.from(r.value);
    head.push(chunk);
    size += chunk.length;
    joined = Buffer.concat(head);
    lineEnd = findLineEnd(joined, quote);
    if (size > MAX_HEADER && lineEnd === -1) {
      throw new AppError('FORMAT_ERROR', 'CSV header line is longer than 1 MiB or never ends');
    }
  }
  const end = lineEnd === -1 ? joined.length : lineEnd;
  const crlf = end > 0 && joined[end - 1] === 0x0d;
  const line = joined
    .subarray(0, crlf ? end - 1 : end)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const header = line.length === 0 ? [] : splitCsvLine(line, delimiter, quote);
  async function* replay(): AsyncGenerator<Uint8Array> {
    if (joined.length > 0) yield joined;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    }
  }
  return { header, crlf, bytes: replay() };
}

function findLineEnd(buf: Buffer, quote: string): number {
  const q = quote.charCodeAt(0);
  let inQuote = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === q) inQuote = !inQuote;
    else if (c === 0x0a && !inQuote) return i;
  }
  return -1;
}

function splitCsvLine(line: string, delimiter: string, quote: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQuote) {
      if (c === quote && line[i + 1] === quote) {
        cur += quote;
        i++;
      } else if (c === quote) inQuote = false;
      else cur += c;
    } else if (c === quote) inQuote = true;
    else if (c === delimiter) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  // Names as the row path's reader gives them (spaces kept), so both paths name the same columns.
  return out;
}

/** What a CSV load writes: its column names and types, and the bytes to send (header still in them). */
export interface CsvLayout {
  names: string[];
  /** Typed where the destination spec names the column; text otherwise. */
  columns: Column[];
  bytes: ByteSource;
  crlf: boolean;
}

/**
 * The layout of a CSV load for the byte fast paths (COPY, LOAD DATA): column names from the header line
 * (or the spec when there is none), typed by the spec's columns.
 */
export async function csvLayout(
  spec: DestinationSpec,
  csv: ByteSource,
  options: CsvCopyOptions,
): Promise<CsvLayout> {
  const peeked =
    options.header !== false ? await peekCsvHeader(csv, options.delimiter, options.quote) : undefined;
  const names = peeked ? peeked.header : spec.columns.map((c) => c.name);
  if (names.length === 0) {
    throw new AppError('BAD_REQUEST', `loading '${requireTable(spec)}': the CSV has no columns`);
  }
  const typed = new Map(spec.columns.map((c) => [c.name, c]));
  const columns: Column[] = names.map((n) => typed.get(n) ?? { name: n, type: 'text', nullable: true });
  return { names, columns, bytes: peeked ? peeked.bytes : csv, crlf: peeked?.crlf ?? false };
}
