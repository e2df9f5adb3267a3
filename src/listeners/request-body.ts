import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { AppError } from '../core/errors.js';
import type { Row } from '../core/records.js';
import type { ByteSource, FormatType } from '../formats/format.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import { parseJsonRecords } from '../formats/json.js';
import { firstSignificantByte, sniffFormat } from '../formats/sniff.js';
import { charsetOf, withCharset } from './body-charset.js';
import type { ListenerSpec } from './listener-schema.js';

/** The format a body is read with: its type and the listener's reader options for it. */
export interface BodyFormat {
  type: FormatType;
  options: Record<string, unknown>;
}

/**
 * Content types that say nothing about the records inside: the listener decides, or the bytes do. The
 * form type is here because `curl -d` sends it whatever the data is.
 */
const UNTYPED = new Set(['', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded']);
/** A body that declares at most this many bytes is read whole and parsed in one step; larger ones stream. */
const WHOLE_BODY_MAX = 1024 * 1024;
/** The options of a format the listener does not configure (one object, so its binding is cached). */
const NO_OPTIONS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
/**
 * Picks the body's format: the Content-Type when it names one (415 when the listener does not accept
 * it); otherwise what the first byte implies ({ or [ → JSON, < → XML, anything else → CSV) when the
 * listener accepts that, else the listener's first format. A `charset` parameter sets the encoding
 * the body is read with (415 for one the server does not know).
 */
export function chooseFormat(
  formats: FormatRegistry,
  spec: ListenerSpec,
  contentType: string | undefined,
  firstByte?: number,
): BodyFormat {
  const accepted = spec.formats ?? formats.types();
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let type: FormatType | undefined;
  if (!UNTYPED.has(media)) {
    type = formats.forMediaType(media)?.type;
    if (!type || !accepted.includes(type)) {
      throw new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Type ${media} is not accepted here; send ${accepted.join(', ')}`,
      );
    }
  } else {
    const sniffed = sniffFormat(firstByte) ?? 'json';
    type = accepted.includes(sniffed) ? sniffed : (spec.formats?.[0] ?? sniffed);
  }
  const options = spec.formatOptions?.[type] ?? NO_OPTIONS;
  const charset = contentType === undefined ? undefined : charsetOf(contentType);
  return { type, options: charset === undefined ? options : withCharset(options, charset) };
}

/** A stored payload's format (kept as JSON next to its body). */
export function parseBodyFormat(text: string): BodyFormat {
  const value: unknown = JSON.parse(text);
  const type: unknown = typeof value === 'object' && value !== null ? Reflect.get(value, 'type') : undefined;
  const options: unknown =
    typeof value === 'object' && value !== null ? Reflect.get(value, 'options') : undefined;
  // Whether the format is still registered is checked when the payload is read.
  if (typeof type !== 'string') throw new Error(`stored payload format is not valid: ${text}`);
  return { type, options: typeof options === 'object' && options !== null ? { ...options } : {} };
}

export function tooLarge(max: number): AppError {
  return new AppError(
    'PAYLOAD_TOO_LARGE',
    `Request body is larger than this listener accepts (${max} bytes)`,
  );
}

/**
 * The body as a byte stream that fails with 413 as soon as it passes `max` bytes (before anything is
 * read when Content-Length already says so).
 */
export function limitedBody(raw: IncomingMessage, max: number): ByteSource {
  const declared = Number(raw.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
  return (async function* () {
    let total = 0;
    try {
      for await (const chunk of raw) {
        const bytes: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        total += bytes.byteLength;
        if (total > max) throw tooLarge(max);
        yield bytes;
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw cutOff(err);
    }
  })();
}

/** The client went away mid-body: its fault, not a server error worth a stack trace. */
function cutOff(cause?: unknown): AppError {
  return new AppError('INVALID_PAYLOAD', 'The request body was cut off before it ended', { cause });
}

/** Peeks at the first non-blank byte without losing it. */
export async function peekFirstByte(
  body: ByteSource,
): Promise<{ first: number | undefined; body: ByteSource }> {
  const it = body[Symbol.asyncIterator]();
  const head: (Uint8Array | string)[] = [];
  let first: number | undefined;
  while (first === undefined) {
    const next = await it.next();
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    head.push(chunk);
    first = firstSignificantByte(chunk);
  }
  return {
    first,
    body: (async function* () {
      yield* head;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })(),
  };
}

/** What a request body holds: its format, its records, and its bytes when asked for (async listeners keep them). */
export interface RequestBody {
  format: BodyFormat;
  rows: Row[];
  bytes: Buffer | undefined;
}

/**
 * Reads a listener's request body into records: 413 past the listener's size limit, 415 for a content
 * type it does not accept, 400 for an empty or malformed body (naming the line or record). A small
 * body (Content-Length up to 1 MiB) is read whole and, when it is plain JSON, parsed in one step; any
 * other body is parsed as its bytes arrive.
 */
export async function readRequestBody(
  formats: FormatRegistry,
  raw: IncomingMessage,
  spec: ListenerSpec,
  keepBytes: boolean,
): Promise<RequestBody> {
  const declared = Number(raw.headers['content-length'] ?? Number.NaN);
  const contentType = raw.headers['content-type'];
  if (Number.isFinite(declared) && declared > spec.maxBodySize) throw tooLarge(spec.maxBodySize);
  if (Number.isFinite(declared) && declared <= WHOLE_BODY_MAX) {
    const bytes = await wholeBody(raw, spec.maxBodySize);
    const first = firstSignificantByte(bytes);
    const format = chooseFormat(formats, spec, contentType, first);
    if (first === undefined) throw new AppError('INVALID_PAYLOAD', 'Request body is empty');
    const rows = fastRecords(bytes, format) ?? (await readRecords(formats, once(bytes), format));
    return { format, rows, bytes: keepBytes ? bytes : undefined };
  }
  const peeked = await peekFirstByte(limitedBody(raw, spec.maxBodySize));
  const format = chooseFormat(formats, spec, contentType, peeked.first);
  if (peeked.first === undefined) throw new AppError('INVALID_PAYLOAD', 'Request body is empty');
  const chunks: Uint8Array[] = [];
  const rows = await readRecords(formats, peeked.body, format, keepBytes ? (c) => chunks.push(c) : undefined);
  return { format, rows, bytes: keepBytes ? Buffer.concat(chunks) : undefined };
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}

/**
 * A small body in one buffer, read with plain stream events (cheaper per call than an async iterator):
 * 413 once it passes `max`, 400 when the client goes away before it ends.
 */
function wholeBody(raw: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (err?: Error) => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      raw.off('aborted', onAborted);
      raw.off('close', onAborted);
      if (err) reject(err);
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += bytes.byteLength;
      if (total > max) {
        done(tooLarge(max));
        raw.resume();
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    };
    const onError = (err: Error) => done(cutOff(err));
    const onAborted = () => done(cutOff());
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('error', onError);
    raw.on('aborted', onAborted);
    // A connection closed before the body ended (whichever of these Node reports first).
    raw.on('close', onAborted);
  });
}

/**
 * Plain JSON (valid UTF-8, records at the root) in one JSON.parse. Undefined when the body needs the
 * streaming reader: other formats, encodings and options, or a malformed document or bytes that are
 * not UTF-8, whose error the reader words.
 */
function fastRecords(bytes: Buffer, format: BodyFormat): Row[] | undefined {
  if (format.type !== 'json' || bytes[0] === 0xef || bytes[0] === 0xfe || bytes[0] === 0xff) return undefined;
  const { recordPath, encoding } = format.options;
  if (recordPath !== undefined || (encoding !== undefined && encoding !== 'utf-8' && encoding !== 'utf8'))
    return undefined;
  if (!isUtf8(bytes)) return undefined;
  return parseJsonRecords(bytes.toString('utf8'));
}

/**
 * Reads the whole body into records, parsing as bytes arrive. A body that cannot be parsed fails with
 * 400 FORMAT_ERROR naming the line or record, before any flow runs. `keep` receives every chunk (the
 * async path stores the raw bytes).
 */
export async function readRecords(
  formats: FormatRegistry,
  body: ByteSource,
  format: BodyFormat,
  keep?: (chunk: Uint8Array) => void,
): Promise<Row[]> {
  const reader = formats.bind(format);
  const tapped = keep
    ? (async function* () {
        for await (const chunk of body) {
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          keep(bytes);
          yield bytes;
        }
      })()
    : body;
  const rows: Row[] = [];
  for await (const batch of reader.read(tapped, { source: 'request body' })) {
    for (const row of batch) rows.push(row);
  }
  return rows;
}
