/**
 * The pages of an HTTP source: the URL of each, its body read whole when it is small, and what a page
 * says about the next one (a cursor or next URL at a path of its JSON body, or a `Link` header with
 * rel="next").
 */
import { Decimal } from '../../core/decimal.js';
import { AppError } from '../../core/errors.js';
import { nestsTooDeep } from '../../core/nesting.js';
import type { Row } from '../../core/records.js';
import { parseJson } from '../../formats/json-exact.js';
import { isRow } from '../../formats/rows.js';
import { textOf } from '../../formats/text.js';
import { type DecodeOptions, decodeText } from '../../formats/text-decoder.js';
import type { HttpAnswer } from './http-client.js';
import type { HttpPagination } from './http-request-schema.js';

/** The value at dot-separated keys of a JSON value; undefined when a key is missing. */
export function valueAt(value: unknown, path: string | undefined): unknown {
  if (!path) return value;
  let v = value;
  for (const key of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * A page body parsed once: its records (when they are an array of plain objects, or one object, at
 * `recordPath`) and the token at `tokenPath`. Undefined when the text is not such JSON: the format's
 * streaming reader then reads it and names the line and record that are wrong.
 */
export function parsePage(
  text: string,
  recordPath: string | undefined,
  tokenPath: string | undefined,
): { records: Row[]; token: unknown } | undefined {
  let doc: unknown;
  try {
    doc = parseJson(text);
  } catch {
    return undefined;
  }
  const at = valueAt(doc, recordPath);
  const records = isRow(at) ? [at] : at;
  if (!Array.isArray(records)) return undefined;
  for (const r of records) if (!isRow(r) || nestsTooDeep(r)) return undefined;
  return { records: records as Row[], token: valueAt(doc, tokenPath) };
}

/** The target of the `Link` header's rel="next" (RFC 8288), if any. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join(', ') : header;
  if (!text) return undefined;
  for (const m of text.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
    const params = m[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return m[1];
  }
  return undefined;
}

/**
 * A page's whole body as text, decoded as the format's reader would: its encoding (or a byte-order
 * mark's), and bytes that are not valid in it failing the step naming their offset, or replaced.
 */
export async function pageText(answer: HttpAnswer, decoding: DecodeOptions, source: string): Promise<string> {
  const parts: string[] = [];
  for await (const text of decodeText(answer.body, decoding, source)) parts.push(text);
  return parts.join('');
}

/**
 * Pages up to this size (as their Content-Length declares) are read whole and parsed at once: memory
 * stays bounded by it, and a page of a few thousand records parses in one native call.
 */
export const WHOLE_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * The body size the answer declares; Infinity when it does not (a chunked answer streams) or when the
 * body is compressed (its size after decompression is not known before).
 */
export function declaredLength(answer: HttpAnswer): number {
  if (answer.headers['content-encoding'] !== undefined) return Number.POSITIVE_INFINITY;
  const v = answer.headers['content-length'];
  const n = Number(Array.isArray(v) ? v[0] : v);
  return v !== undefined && Number.isFinite(n) ? n : Number.POSITIVE_INFINITY;
}

export interface PageState {
  page: number;
  /** The URL pages are built on: the first one, or the last next URL. */
  url: URL;
  number: number;
  offset: number;
  cursor: string | undefined;
}

/** The URL of a page: its base URL with the pagination's query parameters set. */
export function pageUrlOf(at: PageState, pg: HttpPagination): URL {
  const url = new URL(at.url);
  const set = (name: string, value: string | number) => url.searchParams.set(name, String(value));
  if (pg.type === 'page') {
    set(pg.param ?? 'page', at.number);
    if (pg.size !== undefined) set(pg.sizeParam ?? 'per_page', pg.size);
  } else if (pg.type === 'offset') {
    set(pg.param ?? 'offset', at.offset);
    set(pg.sizeParam ?? 'limit', pg.size ?? 100);
  } else {
    // Every page of the other styles asks the same size (a cursor page too, not only the first).
    if (pg.size !== undefined && pg.sizeParam !== undefined) set(pg.sizeParam, pg.size);
    if (pg.type === 'cursor' && at.cursor !== undefined) set(pg.param ?? 'cursor', at.cursor);
  }
  return url;
}

export function tokenText(token: unknown, source: string, path: string | undefined): string | undefined {
  if (token === undefined || token === null || token === '' || token === false) return undefined;
  if (
    typeof token !== 'string' &&
    typeof token !== 'number' &&
    typeof token !== 'bigint' &&
    !(token instanceof Decimal)
  ) {
    throw new AppError('FORMAT_ERROR', `${source}: the value at ${path} is not text or a number`);
  }
  return textOf(token);
}

export function repeated(source: string, what: string, value: string): AppError {
  return new AppError(
    'HTTP_ERROR',
    `${source} answered the same ${what} as the page before (${value.slice(0, 200)}); the pages would never end`,
  );
}

/**
 * The next page's URL, relative ones resolved against the page's. It must stay at the connection's
 * origin: the request carries the connection's credentials.
 */
export function resolveNext(next: string, current: URL, origin: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(next, current);
  } catch {
    throw new AppError('FORMAT_ERROR', `${source}: the next page '${next.slice(0, 200)}' is not a URL`);
  }
  if (url.origin !== origin) {
    throw new AppError(
      'HTTP_ERROR',
      `${source}: the next page ${url.origin} is not at the connection's origin ${origin}; its credentials are not sent elsewhere`,
    );
  }
  return url;
}
