import { type StringOptions, type TUnsafe, Type } from '@sinclair/typebox';

/**
 * A string schema limited to `values`, typed as their union. Written as `{type: string, enum}` rather
 * than a union of literals: the OpenAPI document lists the values in one place, and a response
 * serializer writes it as a plain string instead of trying each literal in turn. For the schema of a
 * request (query, params, body), whose type the route handler infers, use a union of literals instead:
 * the type provider sees through those, not through this.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: StringOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>(Type.String({ ...options, enum: [...values] }));
}
