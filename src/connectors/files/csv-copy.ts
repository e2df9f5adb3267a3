/** The CSV byte fast paths of a folder of files (local or remote), over its FileOps. */
import { AppError } from '../../core/errors.js';
import type { Column } from '../../core/records.js';
import type { ByteSource } from '../../formats/format.js';
import { cancelledError, throwIfAborted } from '../abort.js';
import type { CsvCopyOptions, DestinationSpec, FormatSpec } from '../connector.js';
import { peekCsvHeader } from '../csv-header.js';
import { guardedCsvBytes, requireCsvFastPath } from './csv-fast-path.js';
import { CsvRecordCounter } from './csv-record-counter.js';
import type { FileOps } from './file-ops.js';
import { writeBytesAtomically } from './file-writer.js';

/**
 * Byte fast path out: the raw bytes of one CSV file (header included) when reading it through the
 * format would not change a value (see fileCsvDialect); BAD_REQUEST otherwise, before any byte.
 */
export async function copyCsvFileOut(
  ops: FileOps,
  file: { full: string; shown: string },
  format: FormatSpec,
  csvOptions: CsvCopyOptions,
  signal?: AbortSignal,
): Promise<{ columns: Column[]; bytes: AsyncIterable<Uint8Array> }> {
  const dialect = requireCsvFastPath(format, csvOptions, `'${file.shown}'`);
  throwIfAborted(signal);
  const input = ops.openRead(file.full);
  const stop = (): void => {
    input.destroy(cancelledError());
  };
  signal?.addEventListener('abort', stop, { once: true });
  try {
    const peeked = await peekCsvHeader(input, dialect.delimiter, dialect.quote);
    const columns: Column[] = peeked.header.map((name) => ({ name, type: 'text', nullable: true }));
    async function* bytes(): AsyncGenerator<Uint8Array> {
      try {
        yield* guardedCsvBytes(peeked.bytes, format, dialect, file.shown);
      } finally {
        // Also runs when the consumer stops early, so the file handle is released.
        signal?.removeEventListener('abort', stop);
        input.destroy();
      }
    }
    return { columns, bytes: bytes() };
  } catch (err) {
    signal?.removeEventListener('abort', stop);
    input.destroy();
    throw err;
  }
}

/**
 * Byte fast path in: CSV bytes written as they are to a CSV destination in the same dialect, atomically
 * (temp file + rename). Only mode replace, or append to a file that does not exist yet or is empty;
 * rowsWritten counts records (line feeds outside quotes) minus the header.
 */
export async function copyCsvFileIn(
  ops: FileOps,
  file: { full: string; shown: string },
  spec: DestinationSpec,
  csv: ByteSource,
  csvOptions: CsvCopyOptions,
  signal?: AbortSignal,
): Promise<{ rowsWritten: number }> {
  const dialect = requireCsvFastPath(spec.format, csvOptions, `'${spec.file}'`);
  const { full, shown } = file;
  if (spec.mode !== 'replace' && !(spec.mode === 'append' && !(await ops.size(full)))) {
    throw new AppError(
      'BAD_REQUEST',
      `The CSV byte fast path only replaces '${shown}' (or appends to it while it is missing or empty); use the row path for mode ${spec.mode}`,
    );
  }
  const counter = new CsvRecordCounter(dialect.quote, dialect.escape);
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of csv) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      counter.push(bytes);
      yield bytes;
    }
  }
  await writeBytesAtomically(ops, full, counted(), signal).catch((err: unknown) => {
    throw signal?.aborted ? cancelledError() : err;
  });
  return { rowsWritten: Math.max(0, counter.end() - 1) };
}
