import { type TArray, type TUnsafe, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AppError, type ErrorDetail } from '../core/errors.js';
import { byName } from '../core/named-entries.js';
import { type CompiledTransforms, chainStages } from './compile-transforms.js';
import type { TransformDef } from './transform-def.js';
import type { TransformType } from './transform-type.js';

/**
 * The transforms one server knows, built from an explicit list in the composition root. The schema of a
 * flow's `transforms` list is derived from it (a union discriminated by `type`), as are validation and
 * compilation by type.
 */
export class TransformRegistry {
  private readonly byType: Map<string, TransformType>;
  /** One transform as a flow writes it: a union of every registered transform's schema. */
  readonly schema: TUnsafe<TransformDef>;
  readonly listSchema: TArray<TUnsafe<TransformDef>>;

  constructor(transforms: readonly TransformType[]) {
    this.byType = byName('transform', transforms, (t) => t.type);
    for (const t of transforms) {
      if (t.schema.properties.type.const !== t.type) {
        throw new Error(`transform '${t.type}': its schema's type must be the literal '${t.type}'`);
      }
    }
    this.schema = Type.Unsafe<TransformDef>(
      Type.Union(
        transforms.map((t) => t.schema),
        { title: 'Transform', discriminator: { propertyName: 'type' } },
      ),
    );
    this.listSchema = Type.Array(this.schema);
  }

  types(): string[] {
    return [...this.byType.keys()];
  }

  list(): TransformType[] {
    return [...this.byType.values()];
  }

  /**
   * Checks an untrusted list (from an API body or a YAML file) and returns it typed. Errors are
   * reported against the schema of the transform's own `type`, so a typo in `where` does not drown in
   * messages about the other kinds.
   */
  validate(value: unknown, path: string): TransformDef[] {
    if (Value.Check(this.listSchema, value)) return value;
    const details: ErrorDetail[] = [];
    if (!Array.isArray(value)) {
      details.push({ path, message: 'must be a list of transforms' });
    } else {
      value.forEach((item: unknown, i) => {
        details.push(...this.errors(item, `${path}[${i}]`));
      });
    }
    throw failed(details, path);
  }

  /**
   * Compiles a step's transforms into one chain; `path` is where the list sits in the flow, e.g.
   * `steps[0].transforms`. Fails with VALIDATION_FAILED naming the transform and setting.
   */
  compile(defs: readonly TransformDef[], path: string): CompiledTransforms {
    const stages = defs.map((def, i) => {
      const at = `${path}[${i}]`;
      const transform = this.byType.get(def.type);
      if (!transform || !Value.Check(transform.schema, def)) throw failed(this.errors(def, at), at);
      return transform.compile(def, at);
    });
    return chainStages(stages);
  }

  private errors(item: unknown, at: string): ErrorDetail[] {
    const kind = typeof item === 'object' && item !== null && 'type' in item ? item.type : undefined;
    const transform = typeof kind === 'string' ? this.byType.get(kind) : undefined;
    if (!transform) return [{ path: `${at}.type`, message: `must be one of ${this.types().join(', ')}` }];
    return [...Value.Errors(transform.schema, item)].map((e) => ({
      path: toPath(at, e.path),
      message: e.message,
    }));
  }
}

function failed(details: ErrorDetail[], path: string): AppError {
  const first = details[0];
  const summary = first ? `${first.path}: ${first.message}` : `${path}: invalid transforms`;
  return new AppError('VALIDATION_FAILED', `Invalid transform definition: ${summary}`, { details });
}

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
