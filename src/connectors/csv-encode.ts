/**
 * A CSV encoder for rows that come out of a cursor (copyOut of a parameterised query, where COPY
 * cannot be used). It writes the same dialect COPY ... WITH (FORMAT csv) writes: RFC 4180 quoting,
 * NULL as an empty unquoted field, so both paths produce interchangeable bytes.
 */
import { Decimal } from '../core/decimal.js';
import { stringifyJson } from '../formats/json-exact.js';
import type { CsvCopyOptions } from './connector.js';

export interface CsvEncoder {
  line(values: readonly unknown[]): string;
}

export function csvEncoder(options: CsvCopyOptions = {}): CsvEncoder {
  const delim = options.delimiter ?? ',';
  const quote = options.quote ?? '"';
  const esc = options.escape ?? quote;
  const nullValue = options.nullValue ?? '';
  const special = new RegExp(`[\\r\\n${reEscape(delim)}${reEscape(quote)}]|^\\s|\\s$`);
  const quoteAll = new RegExp(`${reEscape(quote)}|${esc === quote ? '$^' : reEscape(esc)}`, 'g');
  const field = (v: unknown): string => {
    if (v === null || v === undefined) return nullValue;
    let s: string;
    if (typeof v === 'string') s = v;
    else if (typeof v === 'boolean') s = v ? 'true' : 'false';
    else if (v instanceof Date) s = v.toISOString();
    else if (v instanceof Uint8Array) s = `\\x${Buffer.from(v).toString('hex')}`;
    else if (v instanceof Decimal) s = v.digits;
    else if (typeof v === 'object') s = stringifyJson(v);
    else s = Object.is(v, -0) ? '-0' : String(v);
    // An empty string must be quoted to stay distinct from NULL.
    if (s === '' || s === nullValue || special.test(s)) {
      return quote + s.replace(quoteAll, (m) => esc + m) + quote;
    }
    return s;
  };
  return { line: (values) => values.map(field).join(delim) + '\n' };
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}
