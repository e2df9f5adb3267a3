/**
 * `dedupe`: keeps the first row of each distinct key. The only transform with memory that grows with
 * the data: one Set entry per distinct key (roughly 50-100 bytes each for short keys), so ten million
 * distinct keys cost about a gigabyte. Deduplicate in the database for larger sets.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Decimal } from '../core/decimal.js';
import { fieldOf, type Row } from '../core/records.js';
import { stringifyJson } from '../formats/json-exact.js';
import { keyPath, requireColumns, type Stage } from './stage.js';
import { defineTransform } from './transform-type.js';

export const DedupeTransform = Type.Object(
  {
    type: Type.Literal('dedupe'),
    keys: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Columns that identify a row.',
    }),
  },
  { additionalProperties: false, title: 'dedupe' },
);
export type DedupeTransform = Static<typeof DedupeTransform>;

/** One key value as a Set member: primitives as themselves (cheap), anything else as JSON text. */
function keyOf(value: unknown): unknown {
  if (value === undefined) return null;
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (value instanceof Date) return `\u0000date:${value.toISOString()}`;
  // Equal values are one key: 1.50 and 1.5 alike, and a bigint (beyond 2^53, so never a number's twin).
  if (value instanceof Decimal) {
    const d = value.trimmed();
    return d.isInteger() && Number.isSafeInteger(Number(d.digits))
      ? Number(d.digits)
      : `\u0000num:${d.digits}`;
  }
  if (typeof value === 'bigint') return `\u0000num:${value}`;
  return `\u0000json:${stringifyJson(value)}`;
}

export function compileDedupe(def: DedupeTransform, path: string): Stage {
  const keys = [...def.keys];
  const first = keys[0]!;
  const single = keys.length === 1;
  const compositeKey = (row: Row) => JSON.stringify(keys.map((k) => keyOf(fieldOf(row, k))));
  return {
    start() {
      const seen = new Set<unknown>();
      return (batch) => {
        const out = [];
        for (const row of batch) {
          const key = single ? keyOf(fieldOf(row, first)) : compositeKey(row);
          if (seen.has(key)) continue;
          seen.add(key);
          out.push(row);
        }
        return out;
      };
    },
    outputColumns(input) {
      requireColumns(input, keys, keyPath(path, 'keys'), 'key');
      return input;
    },
  };
}

export const dedupeTransform = defineTransform({
  type: 'dedupe',
  schema: DedupeTransform,
  compile: compileDedupe,
});
