/**
 * Recognising a body by its content, for requests that do not say what they hold (no Content-Type, or
 * the form type `curl -d` sends whatever the data). The first significant byte decides: `{` or `[` is
 * JSON, `<` is XML, anything else CSV. Byte-order marks, white space and the zero bytes of UTF-16 are
 * skipped, so the rule holds in every encoding the text formats read.
 */
export type SniffedFormat = 'json' | 'xml' | 'csv';

/** The first byte that is not white space, a byte-order mark byte or a zero byte; undefined for none. */
export function firstSignificantByte(bytes: Uint8Array): number | undefined {
  return bytes.find(
    (b) =>
      b !== 0x20 &&
      b !== 0x0a &&
      b !== 0x0d &&
      b !== 0x09 &&
      b !== 0x00 &&
      b !== 0xef &&
      b !== 0xbb &&
      b !== 0xbf &&
      b !== 0xfe &&
      b !== 0xff,
  );
}

/** The format a body's first significant byte implies; undefined for an empty body. */
export function sniffFormat(first: number | undefined): SniffedFormat | undefined {
  if (first === undefined) return undefined;
  if (first === 0x7b || first === 0x5b) return 'json';
  return first === 0x3c ? 'xml' : 'csv';
}
