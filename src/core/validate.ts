import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError, type ErrorDetail } from './errors.js';

function branchFor(schema: TSchema, value: unknown): TSchema | undefined {
  const discriminator: unknown = schema['discriminator'];
  if (schema[Kind] !== 'Union' || typeof discriminator !== 'object' || discriminator === null)
    return undefined;
  const prop: unknown = (discriminator as { propertyName?: unknown }).propertyName;
  if (typeof prop !== 'string' || typeof value !== 'object' || value === null) return undefined;
  const tag: unknown = (value as Record<string, unknown>)[prop];
  const anyOf: unknown = schema['anyOf'];
  if (!Array.isArray(anyOf)) return undefined;
  const branches: TSchema[] = anyOf;
  return branches.find((b) => {
    const p: unknown = b['properties']?.[prop];
    return typeof p === 'object' && p !== null && (p as { const?: unknown }).const === tag;
  });
}

function allowedTags(schema: TSchema, prop: string): string[] {
  const anyOf: unknown = schema['anyOf'];
  if (!Array.isArray(anyOf)) return [];
  const branches: TSchema[] = anyOf;
  return branches.map((b) => String(b['properties']?.[prop]?.const));
}

/**
 * Checks untrusted input (an API body, a YAML document) against a schema: fills defaults, and on
 * failure throws VALIDATION_FAILED whose details name each bad field by path (`/steps/0/to/mode`).
 * Discriminated unions are checked against the branch the discriminator picks, so a flow with
 * `type: sql` is not reported against the transfer schema.
 */
export function validate<T extends TSchema>(
  schema: T,
  input: unknown,
  what: string,
): import('@sinclair/typebox').Static<T> {
  const value = Value.Default(schema, structuredClone(input));
  if (Value.Check(schema, value)) return value;
  let target: TSchema = schema;
  const discriminator: unknown = schema['discriminator'];
  if (typeof discriminator === 'object' && discriminator !== null) {
    const prop = String((discriminator as { propertyName?: unknown }).propertyName);
    const branch = branchFor(schema, value);
    if (!branch) {
      throw new AppError(
        'VALIDATION_FAILED',
        `${what}: /${prop} must be one of ${allowedTags(schema, prop).join(', ')}`,
        {
          details: [{ path: `/${prop}`, message: `must be one of ${allowedTags(schema, prop).join(', ')}` }],
        },
      );
    }
    target = branch;
  }
  const details: ErrorDetail[] = [];
  for (const e of Value.Errors(target, value)) {
    if (details.length >= 20) break;
    // Union members report once per branch; the first message per path is the useful one.
    if (details.some((d) => d.path === (e.path || '/'))) continue;
    details.push({ path: e.path || '/', message: e.message });
  }
  const first = details[0];
  throw new AppError(
    'VALIDATION_FAILED',
    first ? `${what}: ${first.path} ${first.message}` : `${what} is not valid`,
    {
      details,
    },
  );
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
