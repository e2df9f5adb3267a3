/**
 * What a page of an HTTP source says about the next one: a cursor or next URL at a path of its JSON
 * body, or a `Link` header with rel="next".
 */
import { nestsTooDeep } from '../../core/nesting.js';
import type { Row } from '../../core/records.js';
import { parseJson } from '../../formats/json-exact.js';
import { isRow } from '../../formats/rows.js';

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
