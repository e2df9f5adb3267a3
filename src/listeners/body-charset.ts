import { AppError } from '../core/errors.js';
import { encodingOf } from '../formats/encodings.js';

/** The `charset` parameter of a Content-Type value (RFC 9110: case-insensitive, maybe quoted). */
export function charsetOf(contentType: string): string | undefined {
  const semi = contentType.indexOf(';');
  if (semi === -1) return undefined;
  for (const part of contentType.slice(semi + 1).split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1');
  }
  return undefined;
}

/** Reader options with the encoding a request declared, one object per options and encoding. */
const withEncoding = new WeakMap<object, Map<string, Record<string, unknown>>>();

/**
 * The listener's reader options for a body declared in `charset`: the declaration says what the bytes
 * are, so it wins over the listener's `encoding`. 415 for a charset no text format reads. The objects
 * are cached because format bindings are cached by options object.
 */
export function withCharset(options: Record<string, unknown>, charset: string): Record<string, unknown> {
  const encoding = encodingOf(charset);
  if (encoding === undefined) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      `charset ${charset} is not supported; send utf-8, utf-16le, utf-16be, iso-8859-1, windows-1252 or us-ascii`,
    );
  }
  let byEncoding = withEncoding.get(options);
  if (!byEncoding) {
    byEncoding = new Map();
    withEncoding.set(options, byEncoding);
  }
  let out = byEncoding.get(encoding);
  if (!out) {
    out = Object.freeze({ ...options, encoding });
    byEncoding.set(encoding, out);
  }
  return out;
}
