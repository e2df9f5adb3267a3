import type { Static, TSchema } from '@sinclair/typebox';
import { AppError } from '../core/errors.js';
import type { RowStream } from '../core/records.js';
import { CsvOptionsSchema, csvFormat } from './csv.js';
import type { ByteSource, Format, FormatType, ReadContext, WriteContext } from './format.js';
import { JsonOptionsSchema, jsonFormat } from './json.js';
import { NdjsonOptionsSchema, ndjsonFormat } from './ndjson.js';
import { readOptions } from './options.js';
import { XmlOptionsSchema, xmlFormat } from './xml.js';

/**
 * A format with its options already validated and defaulted: what connectors, listeners and the flow
 * engine hold. Binding once per read/write keeps option checks out of the per-row path.
 */
export interface BoundFormat {
  readonly format: Format<unknown>;
  readonly type: FormatType;
  /** The validated options, defaults filled in. */
  readonly options: Readonly<Record<string, unknown>>;
  read(input: ByteSource, ctx: ReadContext): RowStream;
  write(rows: RowStream, ctx: WriteContext): AsyncIterable<Uint8Array | string>;
  /** The same format with some options replaced (e.g. header=false when appending to a CSV file). */
  with(overrides: Record<string, unknown>): BoundFormat;
}

interface Entry {
  readonly format: Format<unknown>;
  bind(raw: unknown): BoundFormat;
}

function entry<T extends TSchema>(format: Format<Static<T>>, schema: T): Entry {
  const bind = (raw: unknown): BoundFormat => {
    const options = readOptions(schema, raw, format.type);
    const plain: Record<string, unknown> = { ...(options ?? {}) };
    return {
      format: erase(format),
      type: format.type,
      options: plain,
      read: (input, ctx) => format.read(input, options, ctx),
      write: (rows, ctx) => format.write(rows, options, ctx),
      with: (overrides) => bind({ ...plain, ...overrides }),
    };
  };
  return { format: erase(format), bind };
}

/** The registry lists formats without their option types; callers reach options through bind(). */
function erase<O>(format: Format<O>): Format<unknown> {
  return {
    type: format.type,
    optionsSchema: format.optionsSchema,
    mediaTypes: format.mediaTypes,
    extensions: format.extensions,
    read: (input, options, ctx) => getEntry(format.type).bind(options).read(input, ctx),
    write: (rows, options, ctx) => getEntry(format.type).bind(options).write(rows, ctx),
  };
}

const ENTRIES: Record<FormatType, Entry> = {
  csv: entry(csvFormat, CsvOptionsSchema),
  json: entry(jsonFormat, JsonOptionsSchema),
  ndjson: entry(ndjsonFormat, NdjsonOptionsSchema),
  xml: entry(xmlFormat, XmlOptionsSchema),
};

export const FORMAT_TYPES: readonly FormatType[] = ['csv', 'json', 'ndjson', 'xml'];

export function isFormatType(type: string): type is FormatType {
  return Object.hasOwn(ENTRIES, type);
}

function getEntry(type: string): Entry {
  if (!isFormatType(type)) {
    throw new AppError('BAD_REQUEST', `Unknown format '${type}'; use one of ${FORMAT_TYPES.join(', ')}`);
  }
  return ENTRIES[type];
}

/** The format of a type; throws BAD_REQUEST naming the known types for anything else. */
export function getFormat(type: string): Format<unknown> {
  return getEntry(type).format;
}

/**
 * Validates `options` against the format's schema (VALIDATION_FAILED with details otherwise), fills in
 * the defaults and returns the format ready to read or write.
 */
export function bindFormat(spec: {
  type: string;
  options?: Record<string, unknown> | undefined;
}): BoundFormat {
  const entry = getEntry(spec.type);
  // Bindings are cached by options object (definitions keep theirs for the life of a version) and per
  // type without options: validating options on every listener call costs more than parsing its body.
  const key = spec.options ?? entry;
  let b = bound.get(key)?.get(spec.type);
  if (!b) {
    b = entry.bind(spec.options ?? {});
    let byType = bound.get(key);
    if (!byType) {
      byType = new Map();
      bound.set(key, byType);
    }
    byType.set(spec.type, b);
  }
  return b;
}

/** Bound formats by options object (or by registry entry when there are none), then by type. */
const bound = new WeakMap<object, Map<string, BoundFormat>>();

/** The format for a Content-Type header value (parameters such as charset are ignored), if any. */
export function formatForMediaType(contentType: string): Format<unknown> | undefined {
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  for (const type of FORMAT_TYPES) {
    if (ENTRIES[type].format.mediaTypes.includes(media)) return ENTRIES[type].format;
  }
  // Structured syntax suffixes (RFC 6839): application/vnd.acme+json, application/atom+xml.
  if (media.endsWith('+json')) return ENTRIES.json.format;
  if (media.endsWith('+xml')) return ENTRIES.xml.format;
  return undefined;
}

/** The format for a file extension, with or without the dot, case-insensitive, if any. */
export function formatForExtension(ext: string): Format<unknown> | undefined {
  const clean = ext.replace(/^\./, '').toLowerCase();
  for (const type of FORMAT_TYPES) {
    if (ENTRIES[type].format.extensions.includes(clean)) return ENTRIES[type].format;
  }
  return undefined;
}
