/**
 * How deep arrays and objects may nest inside one record (the record itself is level 1). Real records
 * nest a few levels; a document nested thousands deep is an attack on every recursive consumer after
 * the reader (JSON.stringify, the JSON column writers, validation), so readers refuse it up front as
 * the caller's error.
 */
export const MAX_NESTING = 64;

/** The reader's words for a record that nests too deep. */
export function tooDeepMessage(what: string): string {
  return `${what} nests deeper than ${MAX_NESTING} levels`;
}

/**
 * Whether a parsed value nests arrays or objects deeper than MAX_NESTING. Walks containers only, and
 * no deeper than the limit, so a flat record costs one type check per field.
 */
export function nestsTooDeep(value: unknown, level = 1): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (level > MAX_NESTING) return true;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'object' && item !== null && nestsTooDeep(item, level + 1)) return true;
    }
    return false;
  }
  for (const key in value) {
    const item: unknown = Reflect.get(value, key);
    if (typeof item === 'object' && item !== null && nestsTooDeep(item, level + 1)) return true;
  }
  return false;
}
