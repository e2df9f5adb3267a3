import { Decimal } from '../core/decimal.js';
import { AppError } from '../core/errors.js';
import { canonicalEncoding, IANA_NAME } from './encodings.js';
import { stringifyJson } from './json-exact.js';
import { windows1252Byte } from './text-decoder.js';

export { canonicalEncoding, type Encoding, EncodingSchema, textOptions } from './encodings.js';
export { decodeText } from './text-decoder.js';

/**
 * Text out in the requested encoding; utf8 strings pass through because Node writes them as utf8. A
 * character the encoding cannot hold fails the write (a single-byte encoding would otherwise change
 * it silently); the XML writer escapes such characters before they get here.
 */
export function encodeText(text: string, encoding: string): string | Uint8Array {
  const e = canonicalEncoding(encoding);
  switch (e) {
    case 'utf8':
      return text;
    case 'utf16le':
      return Buffer.from(text, 'utf16le');
    case 'utf16be':
      return Buffer.from(text, 'utf16le').swap16();
    case 'latin1':
    case 'ascii': {
      const max = e === 'latin1' ? 0xff : 0x7f;
      for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > max) unencodable(text, i, e);
      return Buffer.from(text, 'latin1');
    }
    case 'windows1252': {
      const out = Buffer.allocUnsafe(text.length);
      for (let i = 0; i < text.length; i++) {
        const byte = windows1252Byte(text.charCodeAt(i));
        if (byte === undefined) unencodable(text, i, e);
        out[i] = byte;
      }
      return out;
    }
  }
}

function unencodable(text: string, at: number, encoding: 'latin1' | 'ascii' | 'windows1252'): never {
  const code = text.codePointAt(at) ?? 0;
  const ch = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const near = JSON.stringify(text.slice(Math.max(0, at - 20), at + 20));
  throw new AppError(
    'FORMAT_ERROR',
    `Character ${ch} cannot be written in ${IANA_NAME[encoding]} (in ${near}); choose utf8 or another encoding that holds it`,
  );
}

/** A JSON-friendly rendering of a value for text formats: dates as ISO 8601, bytes as base64, decimals as their digits. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Decimal) return value.digits;
  if (typeof value === 'object' && value !== null) return stringifyJson(value);
  return Object.is(value, -0) ? '-0' : String(value);
}
