import { Decimal } from '../core/decimal.js';
import type { Row, RowStream } from '../core/records.js';
import { canonicalEncoding, IANA_NAME } from './encodings.js';
import type { WriteContext } from './format.js';
import { encodeText, textOf } from './text.js';
import { CP1252_HIGH } from './text-decoder.js';
import type { XmlOptions } from './xml-options.js';

/** Characters XML 1.0 cannot carry at all; they are dropped rather than producing an unreadable file. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

function escaper(encoding: string): (text: string) => string {
  // Characters the target encoding cannot hold are written as character references.
  const e = canonicalEncoding(encoding);
  const outside =
    e === 'latin1'
      ? /[\u0100-\u{10ffff}]/gu
      : e === 'ascii'
        ? /[\u0080-\u{10ffff}]/gu
        : e === 'windows1252'
          ? new RegExp(`[^\\u0000-\\u007f\\u00a0-\\u00ff${CP1252_HIGH}]`, 'gu')
          : undefined;
  return (text) => {
    let out = text.replace(INVALID, '');
    if (/[&<>"]/.test(out))
      out = out.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    // A reader turns a raw CR (and CRLF) into LF, as XML requires; a reference keeps it.
    if (out.includes('\r')) out = out.replace(/\r/g, '&#13;');
    if (outside) out = out.replace(outside, (ch) => `&#x${ch.codePointAt(0)!.toString(16)};`);
    return out;
  };
}

/** Attribute values lose raw tabs and line feeds to spaces when read; references keep them. */
function attribute(escaped: string): string {
  return /[\t\n]/.test(escaped) ? escaped.replace(/\t/g, '&#9;').replace(/\n/g, '&#10;') : escaped;
}

/** Column names are not always XML names (spaces, leading digits); unusable characters become '_'. */
const nameCache = new Map<string, string>();
function elementName(key: string): string {
  let name = nameCache.get(key);
  if (name === undefined) {
    name = key.replace(/[^\p{L}\p{N}_.:-]/gu, '_');
    if (!/^[\p{L}_]/u.test(name)) name = `_${name}`;
    if (nameCache.size < 10_000) nameCache.set(key, name);
  }
  return name;
}

export async function* writeXml(
  rows: RowStream,
  o: XmlOptions,
  ctx: WriteContext,
): AsyncGenerator<string | Uint8Array> {
  const esc = escaper(o.encoding);
  const prefix = o.attributePrefix;
  const root = elementName(o.rootElement);
  const rec = elementName(o.recordElement);

  const element = (name: string, value: unknown): string => {
    if (value === null || value === undefined) return `<${name}/>`;
    if (Array.isArray(value)) return value.map((v) => element(name, v)).join('');
    if (
      typeof value === 'object' &&
      !(value instanceof Date) &&
      !(value instanceof Uint8Array) &&
      !(value instanceof Decimal)
    ) {
      return open(name, Object.entries(value));
    }
    const text = textOf(value);
    // An empty element reads as null (emptyAsNull); an empty CDATA section says it is empty text.
    if (text === '') return `<${name}><![CDATA[]]></${name}>`;
    return `<${name}>${esc(text)}</${name}>`;
  };
  const open = (name: string, entries: [string, unknown][]): string => {
    let attrs = '';
    let body = '';
    for (const [key, v] of entries) {
      if (prefix !== '' && key.startsWith(prefix) && key.length > prefix.length) {
        if (v !== null && v !== undefined)
          attrs += ` ${elementName(key.slice(prefix.length))}="${attribute(esc(textOf(v)))}"`;
      } else if (key === o.textKey) body += esc(textOf(v));
      else body += element(elementName(key), v);
    }
    return body === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${body}</${name}>`;
  };

  yield encodeText(
    `<?xml version="1.0" encoding="${IANA_NAME[canonicalEncoding(o.encoding)]}"?>\n<${root}>\n`,
    o.encoding,
  );
  for await (const batch of rows) {
    ctx.signal?.throwIfAborted();
    let out = '';
    for (const row of batch) out += `  ${open(rec, entriesOf(row))}\n`;
    if (out !== '') yield encodeText(out, o.encoding);
  }
  yield encodeText(`</${root}>\n`, o.encoding);
}

function entriesOf(row: Row): [string, unknown][] {
  return Object.entries(row);
}
