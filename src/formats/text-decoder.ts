import { isAscii } from 'node:buffer';
import type { AppError } from '../core/errors.js';
import { canonicalEncoding, type Encoding, IANA_NAME } from './encodings.js';
import type { ByteSource } from './format.js';
import { formatError } from './format-error.js';

export interface DecodeOptions {
  /** A name `encodingOf` knows; a byte-order mark at the start overrides it. */
  encoding: string;
  invalidBytes: 'error' | 'replace';
}

/** Decodes one encoding chunk by chunk; `offset` is the input offset of the first bad byte. */
interface ChunkDecoder {
  write(bytes: Uint8Array): string;
  end(): string;
}

class InvalidBytes extends Error {
  constructor(readonly offset: number) {
    super('invalid bytes');
  }
}

/**
 * Bytes to text chunks. A byte-order mark decides the encoding when there is one (as the WHATWG decode
 * algorithm does) and is removed, so it never ends up in a field name. Characters split across chunks
 * stay intact. Bytes that are not valid in the encoding fail the read with a FORMAT_ERROR naming their
 * byte offset (counted from 0), unless `invalidBytes` is `replace`, which reads each as U+FFFD.
 */
export async function* decodeText(
  input: ByteSource,
  options: DecodeOptions,
  source: string,
): AsyncGenerator<string> {
  const it = input[Symbol.asyncIterator]();
  let decoder: ChunkDecoder | undefined;
  let encoding = canonicalEncoding(options.encoding);
  /** Bytes held back until there are enough to recognise a byte-order mark. */
  let head: Uint8Array | undefined;
  let first = true;
  /** The decoder for the first bytes, and those bytes without their byte-order mark. */
  const start = (bytes: Uint8Array): [ChunkDecoder, Uint8Array] => {
    const bom = byteOrderMark(bytes);
    if (bom) encoding = bom.encoding;
    const d = chunkDecoder(encoding, options.invalidBytes, bom?.length ?? 0);
    return [d, bom ? bytes.subarray(bom.length) : bytes];
  };
  try {
    for (;;) {
      const next = await it.next();
      if (next.done) break;
      const chunk = next.value;
      if (typeof chunk === 'string') {
        // Already text (a test, or a source that decoded it): only the mark has to go.
        const text = first ? chunk.replace(/^\uFEFF/, '') : chunk;
        first = false;
        if (text.length > 0) yield text;
        continue;
      }
      first = false;
      let bytes: Uint8Array = chunk;
      if (decoder === undefined) {
        bytes = head ? Buffer.concat([head, bytes]) : bytes;
        if (bytes.length < 3) {
          head = bytes;
          continue;
        }
        head = undefined;
        [decoder, bytes] = start(bytes);
      }
      const text = decoder.write(bytes);
      if (text.length > 0) yield text;
    }
    if (head) {
      const [d, bytes] = start(head);
      decoder = d;
      const text = d.write(bytes);
      if (text.length > 0) yield text;
    }
    const rest = decoder?.end() ?? '';
    if (rest.length > 0) yield rest;
  } catch (err) {
    if (!(err instanceof InvalidBytes)) throw err;
    throw invalidBytesError(source, encoding, err.offset);
  } finally {
    await it.return?.();
  }
}

/** The error for bytes that are not valid in `encoding`, at `offset` (from 0) of the input. */
export function invalidBytesError(source: string, encoding: Encoding, offset: number): AppError {
  return formatError(
    source,
    `byte offset ${offset}`,
    `not valid ${IANA_NAME[encoding]} (send or declare the right encoding, or set invalidBytes to replace to read such bytes as U+FFFD)`,
  );
}

function byteOrderMark(b: Uint8Array): { encoding: Encoding; length: number } | undefined {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return { encoding: 'utf8', length: 3 };
  if (b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf16le', length: 2 };
  if (b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf16be', length: 2 };
  return undefined;
}

function chunkDecoder(encoding: Encoding, invalid: 'error' | 'replace', start: number): ChunkDecoder {
  switch (encoding) {
    case 'utf8':
    case 'utf16le':
    case 'utf16be':
      return unicodeDecoder(encoding, invalid, start);
    case 'latin1':
      return { write: (b) => latin1(b), end: () => '' };
    case 'windows1252':
      return { write: (b) => windows1252(latin1(b)), end: () => '' };
    case 'ascii':
      return asciiDecoder(invalid, start);
  }
}

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/**
 * TextDecoder for the Unicode encodings (it is fastest for UTF-8, and keeps split characters in stream
 * mode). In fatal mode it says only that something was wrong; the offset is found by checking the
 * failed chunk again, together with the bytes of an unfinished character the chunks before it left.
 */
function unicodeDecoder(encoding: Encoding, invalid: 'error' | 'replace', start: number): ChunkDecoder {
  const label = encoding === 'utf8' ? 'utf-8' : encoding === 'utf16le' ? 'utf-16le' : 'utf-16be';
  const decoder = new TextDecoder(label, { fatal: invalid === 'error', ignoreBOM: true });
  const check = (b: Uint8Array, atEnd: boolean): number =>
    encoding === 'utf8' ? firstInvalidUtf8(b, atEnd) : firstInvalidUtf16(b, encoding, atEnd);
  /** Input offset after the bytes decoded so far, and the last (up to) three of them. */
  let consumed = start;
  let tail: Uint8Array = new Uint8Array(0);
  const pending = (): number =>
    encoding === 'utf8'
      ? utf8Pending(tail)
      : utf16Pending(tail, encoding, (consumed - tail.length - start) % 2);
  return {
    write(bytes) {
      try {
        const text = decoder.decode(bytes, { stream: true });
        consumed += bytes.length;
        tail =
          bytes.length >= 3
            ? Uint8Array.from(bytes.subarray(bytes.length - 3))
            : Buffer.concat([tail, bytes]).subarray(-3);
        return text;
      } catch {
        const carry = pending();
        const joined = Buffer.concat([tail.subarray(tail.length - carry), bytes]);
        throw new InvalidBytes(consumed - carry + Math.max(check(joined, false), 0));
      }
    },
    end() {
      try {
        return decoder.decode();
      } catch {
        throw new InvalidBytes(consumed - pending());
      }
    },
  };
}

function asciiDecoder(invalid: 'error' | 'replace', start: number): ChunkDecoder {
  let before = start;
  return {
    write(b) {
      const offset = before;
      before += b.length;
      if (isAscii(b)) return latin1(b);
      const bad = b.findIndex((x) => x > 0x7f);
      if (invalid === 'error') throw new InvalidBytes(offset + bad);
      return latin1(b).replace(/[\u0080-\u00ff]/g, '\ufffd');
    },
    end: () => '',
  };
}

/** Index of the first byte that starts an ill-formed UTF-8 sequence (WHATWG rules), or -1. */
export function firstInvalidUtf8(b: Uint8Array, atEnd = true): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return atEnd ? i : -1;
      const d = b[i + k]!;
      if (d < lo || d > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}

/** Bytes at the end of a well-formed chunk that begin a character the next chunk completes. */
function utf8Pending(b: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const c = b[b.length - k]!;
    if (c < 0x80) return 0;
    if (c >= 0xc0) {
      const size = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return size > k ? k : 0;
    }
  }
  return 0;
}

function unit(b: Uint8Array, i: number, encoding: Encoding): number {
  return encoding === 'utf16le' ? b[i]! | (b[i + 1]! << 8) : (b[i]! << 8) | b[i + 1]!;
}

/** Byte index of the first unpaired surrogate (or of a trailing odd byte at the end), or -1. */
function firstInvalidUtf16(b: Uint8Array, encoding: Encoding, atEnd = true): number {
  let i = 0;
  for (; i + 1 < b.length; i += 2) {
    const u = unit(b, i, encoding);
    if (u >= 0xdc00 && u <= 0xdfff) return i;
    if (u >= 0xd800 && u <= 0xdbff) {
      if (i + 3 >= b.length) return atEnd ? i : -1;
      const low = unit(b, i + 2, encoding);
      if (low < 0xdc00 || low > 0xdfff) return i;
      i += 2;
    }
  }
  return i < b.length && atEnd ? i : -1;
}

/**
 * An odd trailing byte, and a high surrogate waiting for its pair, at the end of a well-formed chunk
 * that starts `skew` bytes into a code unit (chunks may split units).
 */
function utf16Pending(b: Uint8Array, encoding: Encoding, skew: number): number {
  let i = skew;
  let carry = 0;
  for (; i + 1 < b.length; i += 2) {
    const u = unit(b, i, encoding);
    carry = u >= 0xd800 && u <= 0xdbff ? 2 : 0;
  }
  return carry + (b.length - i);
}

/** windows-1252 differs from ISO-8859-1 only in 0x80-0x9F, where it has printable characters. */
export const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

// Node's TextDecoder('windows-1252') decodes as ISO-8859-1 (0x80 reads as U+0080, not €), so the
// table is applied here.
function windows1252(text: string): string {
  return /[\u0080-\u009f]/.test(text)
    ? text.replace(/[\u0080-\u009f]/g, (ch) => CP1252_HIGH[ch.charCodeAt(0) - 0x80]!)
    : text;
}

/** The windows-1252 byte of a character, or undefined when it has none. */
export function windows1252Byte(code: number): number | undefined {
  if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) return code;
  const k = CP1252_HIGH.indexOf(String.fromCharCode(code));
  return k === -1 ? undefined : 0x80 + k;
}
