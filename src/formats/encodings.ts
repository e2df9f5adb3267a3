import { Type } from '@sinclair/typebox';

/**
 * The character encodings text formats read and write, by their canonical names, and the other names
 * they are known by (IANA charset labels, as a Content-Type or a definition may spell them).
 */
export type Encoding = 'utf8' | 'utf16le' | 'utf16be' | 'latin1' | 'windows1252' | 'ascii';

const ALIASES: Record<string, Encoding> = {
  utf8: 'utf8',
  'utf-8': 'utf8',
  utf16le: 'utf16le',
  'utf-16le': 'utf16le',
  // UTF-16 without a byte order: a byte-order mark decides; without one, RFC 2781 says big-endian.
  'utf-16': 'utf16be',
  utf16be: 'utf16be',
  'utf-16be': 'utf16be',
  latin1: 'latin1',
  'latin-1': 'latin1',
  'iso-8859-1': 'latin1',
  iso_8859_1: 'latin1',
  'iso-latin-1': 'latin1',
  l1: 'latin1',
  windows1252: 'windows1252',
  'windows-1252': 'windows1252',
  cp1252: 'windows1252',
  ascii: 'ascii',
  'us-ascii': 'ascii',
};

/** Every name `encoding` accepts, canonical names first. */
export const ENCODING_NAMES: readonly string[] = Object.keys(ALIASES);

export const EncodingSchema = Type.Union(
  ENCODING_NAMES.map((name) => Type.Literal(name)),
  {
    default: 'utf8',
    description:
      'Character encoding of the bytes: utf8, utf16le, utf16be, latin1 (ISO-8859-1), windows1252 or ascii (IANA names such as utf-8 and iso-8859-1 work too). A byte-order mark at the start overrides it and is removed.',
  },
);

export const InvalidBytesSchema = Type.Union([Type.Literal('error'), Type.Literal('replace')], {
  default: 'error',
  description:
    'Bytes that are not valid in the encoding: error (the read fails naming the byte offset) or replace (each becomes U+FFFD).',
});

/** The options every text format shares, spread into its options schema. */
export const textOptions = { encoding: EncodingSchema, invalidBytes: InvalidBytesSchema };

/** The canonical encoding of a name (case-insensitive), or undefined for one this server does not know. */
export function encodingOf(name: string): Encoding | undefined {
  const key = name.trim().toLowerCase();
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : undefined;
}

/** The canonical encoding of a validated option value; the schema admits only known names. */
export function canonicalEncoding(name: string): Encoding {
  return encodingOf(name) ?? 'utf8';
}

/** How each encoding is called in an XML declaration or a Content-Type charset. */
export const IANA_NAME: Record<Encoding, string> = {
  utf8: 'UTF-8',
  utf16le: 'UTF-16LE',
  utf16be: 'UTF-16BE',
  latin1: 'ISO-8859-1',
  windows1252: 'windows-1252',
  ascii: 'US-ASCII',
};
