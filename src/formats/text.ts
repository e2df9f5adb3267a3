import { StringDecoder } from 'node:string_decoder';
import { Type } from '@sinclair/typebox';
import type { ByteSource } from './format.js';

/**
 * Character encodings every text format accepts. These are the ones Node decodes natively (no iconv), and
 * StringDecoder keeps multi-byte characters that straddle chunk boundaries intact.
 */
export const EncodingSchema = Type.Union(
  [Type.Literal('utf8'), Type.Literal('latin1'), Type.Literal('utf16le'), Type.Literal('ascii')],
  { default: 'utf8', description: 'Character encoding of the bytes (utf8, latin1, utf16le, ascii).' },
);

export type Encoding = 'utf8' | 'latin1' | 'utf16le' | 'ascii';

/** Bytes to text chunks, dropping a leading byte-order mark so it never ends up in a field name. */
export async function* decodeText(input: ByteSource, encoding: Encoding): AsyncGenerator<string> {
  if (encoding === 'utf8') {
    yield* decodeUtf8(input);
    return;
  }
  const decoder = new StringDecoder(encoding);
  let first = true;
  for await (const chunk of input) {
    let text =
      typeof chunk === 'string'
        ? chunk
        : decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) yield text;
  }
  const rest = decoder.end();
  if (rest.length > 0) yield rest;
}

/**
 * UTF-8 through TextDecoder rather than StringDecoder: decoding is a large share of a text format's read
 * time, and TextDecoder is the quicker of the two in Node. It drops the byte-order mark itself and, in
 * stream mode, keeps characters split across chunks intact.
 */
async function* decodeUtf8(input: ByteSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let first = true;
  for await (const chunk of input) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) yield text;
  }
  const rest = decoder.decode();
  if (rest.length > 0) yield rest;
}

/** Text out in the requested encoding; utf8 strings pass through because Node writes them as utf8. */
export function encodeText(text: string, encoding: Encoding): string | Uint8Array {
  return encoding === 'utf8' ? text : Buffer.from(text, encoding);
}

/** A JSON-friendly rendering of a value for text formats: dates as ISO 8601, bytes as base64. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
