import type { TSchema } from '@sinclair/typebox';
import type { Column, RowStream } from '../core/records.js';

/** Bytes in: a Node Readable, a fetch body, or any async iterable of chunks. */
export type ByteSource = AsyncIterable<Uint8Array | string>;

export type FormatType = 'csv' | 'json' | 'ndjson' | 'xml';

export interface ReadContext {
  /** What the bytes are, for error messages: a file name, "request body", … */
  source: string;
  /** Rows per batch; formats choose a sensible default when absent. */
  batchSize?: number;
  signal?: AbortSignal;
}

export interface WriteContext {
  /** The column layout when known up front (database sources); writers fall back to the first row's keys. */
  columns?: Column[];
  signal?: AbortSignal;
}

/**
 * A format turns bytes into record batches and back, both as streams. `read` must fail with an
 * AppError('FORMAT_ERROR') naming `ctx.source` and the line (or record number) of the bad input, and must
 * never buffer the whole input. `write` yields chunks as batches arrive.
 */
export interface Format<Options> {
  readonly type: FormatType;
  /** JSON Schema of the options; serves validation, docs and the console's forms. */
  readonly optionsSchema: TSchema;
  /** Media types this format answers to (first is the one it produces). */
  readonly mediaTypes: readonly string[];
  /** File extensions, without the dot. */
  readonly extensions: readonly string[];
  read(input: ByteSource, options: Options, ctx: ReadContext): RowStream;
  write(rows: RowStream, options: Options, ctx: WriteContext): AsyncIterable<Uint8Array | string>;
}
