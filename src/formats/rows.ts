import type { Row } from '../core/records.js';

/** A parsed value usable as a record: a plain object, not an array or a primitive. */
export function isRow(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Column names for writers: the declared layout when known, else the first row's keys. */
export function columnNames(
  declared: readonly { name: string }[] | undefined,
  first: Row | undefined,
): string[] {
  if (declared && declared.length > 0) return declared.map((c) => c.name);
  return first ? Object.keys(first) : [];
}

export { setField } from '../core/records.js';
