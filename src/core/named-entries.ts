import { type TLiteral, type TUnion, Type } from '@sinclair/typebox';

/**
 * The entries of one extension point by name. A name given twice is a programming error in the
 * composition root (two formats called `csv`), so it fails at start-up instead of one silently winning.
 */
export function byName<E>(what: string, entries: readonly E[], nameOf: (e: E) => string): Map<string, E> {
  const map = new Map<string, E>();
  for (const e of entries) {
    const name = nameOf(e);
    if (map.has(name)) throw new Error(`${what} '${name}' is registered twice`);
    map.set(name, e);
  }
  return map;
}

/** A schema accepting exactly these names (one `const` per name in JSON Schema). */
export function namesSchema(
  names: readonly string[],
  options: { description?: string; default?: string } = {},
): TUnion<TLiteral<string>[]> {
  return Type.Union(
    names.map((n) => Type.Literal(n)),
    options,
  );
}
