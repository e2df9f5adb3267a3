import type { Static, TSchema } from '@sinclair/typebox';
import type { Column, RowStream } from '../core/records.js';

/** Bytes in: a Node Readable, a fetch body, or any async iterable of chunks. */
export type ByteSource = AsyncIterable<Uint8Array | string>;

/**
 * The name of a format as definitions write it (`csv`, `json`, …). Any name the server's format
 * registry holds: the registry, not the type system, knows which exist, because a deployment may add
 * its own.
 */
export type FormatType = string;

/**
 * The longest record a reader holds, in characters, when the caller sets none: a line without an end
 * (or an unclosed quote) fails the read naming its line instead of growing until the process dies.
 */
export const DEFAULT_MAX_RECORD_SIZE = 16 * 1024 * 1024;

export interface ReadContext {
  /** What the bytes are, for error messages: a file name, "request body", … */
  source: string;
  /** The longest record, in characters of text (DEFAULT_MAX_RECORD_SIZE when absent). */
  maxRecordSize?: number;
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
 * A format turns bytes into record batches and back, both as streams; it describes itself as data (name,
 * options schema, media types, extensions) so the registry derives schemas, content negotiation and docs
 * from it. `read` must fail with an AppError('FORMAT_ERROR') naming `ctx.source` and the line (or record
 * number) of the bad input, and must never buffer the whole input. `write` yields chunks as batches
 * arrive. Both are only called with options the registry validated against `optionsSchema`.
 */
export interface Format<Schema extends TSchema = TSchema, Name extends string = string> {
  readonly type: Name;
  /** JSON Schema of the options; serves validation, docs and the console's forms. */
  readonly optionsSchema: Schema;
  /** Media types this format answers to (first is the one it produces). */
  readonly mediaTypes: readonly string[];
  /**
   * Structured syntax suffixes (RFC 6839) that mean this format, e.g. `+json` for
   * `application/vnd.acme+json`.
   */
  readonly mediaTypeSuffixes?: readonly string[];
  /** File extensions, without the dot. */
  readonly extensions: readonly string[];
  read(input: ByteSource, options: Static<Schema>, ctx: ReadContext): RowStream;
  write(rows: RowStream, options: Static<Schema>, ctx: WriteContext): AsyncIterable<Uint8Array | string>;
}

/** Declares a format, keeping its name literal so lists of formats yield a union of their names. */
export function defineFormat<const Name extends string, Schema extends TSchema>(
  format: Format<Schema, Name>,
): Format<Schema, Name> {
  return format;
}
