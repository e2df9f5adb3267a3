/**
 * The schema of a transform as written in a flow (API body or YAML file): one TypeBox union
 * discriminated by `type`, so API validation, the YAML loader, the console forms and the docs share it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError, type ErrorDetail } from '../core/errors.js';
import { CastTransform } from './cast.js';
import { DedupeTransform } from './dedupe.js';
import { DefaultsTransform } from './defaults.js';
import { FilterTransform } from './filter.js';
import { MapTransform } from './map.js';

export const TransformDef = Type.Union(
  [MapTransform, FilterTransform, CastTransform, DefaultsTransform, DedupeTransform],
  { title: 'Transform', discriminator: { propertyName: 'type' } },
);
export type TransformDef = Static<typeof TransformDef>;

export const TransformList = Type.Array(TransformDef);

const SCHEMAS: Record<
  string,
  | typeof MapTransform
  | typeof FilterTransform
  | typeof CastTransform
  | typeof DefaultsTransform
  | typeof DedupeTransform
> = {
  map: MapTransform,
  filter: FilterTransform,
  cast: CastTransform,
  defaults: DefaultsTransform,
  dedupe: DedupeTransform,
};

/** `/0/where` under `steps[0].transforms` becomes `steps[0].transforms[0].where`. */
function toPath(base: string, pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .reduce((acc, part) => {
      const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
      if (/^\d+$/.test(key)) return `${acc}[${key}]`;
      return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${acc}.${key}` : `${acc}[${JSON.stringify(key)}]`;
    }, base);
}

/**
 * Checks an untrusted list (from an API body or a YAML file) and returns it typed. Errors are
 * reported against the schema of the transform's own `type`, so a typo in `where` does not drown in
 * messages about the four other kinds.
 */
export function validateTransforms(value: unknown, path: string): TransformDef[] {
  if (Value.Check(TransformList, value)) return value;
  const details: ErrorDetail[] = [];
  if (!Array.isArray(value)) {
    details.push({ path, message: 'must be a list of transforms' });
  } else {
    value.forEach((item: unknown, i) => {
      const at = `${path}[${i}]`;
      const kind = typeof item === 'object' && item !== null && 'type' in item ? item.type : undefined;
      const schema = typeof kind === 'string' && Object.hasOwn(SCHEMAS, kind) ? SCHEMAS[kind] : undefined;
      if (!schema) {
        details.push({ path: `${at}.type`, message: `must be one of ${Object.keys(SCHEMAS).join(', ')}` });
        return;
      }
      for (const error of Value.Errors(schema, item)) {
        details.push({ path: toPath(at, error.path), message: error.message });
      }
    });
  }
  const first = details[0];
  const summary = first ? `${first.path}: ${first.message}` : `${path}: invalid transforms`;
  throw new AppError('VALIDATION_FAILED', `Invalid transform definition: ${summary}`, { details });
}
