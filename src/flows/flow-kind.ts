import { AppError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import type { FormatRegistry, FormatSpec } from '../formats/format-registry.js';
import type { TransformRegistry } from '../transforms/transform-registry.js';
import { type FlowSpec, flowSchema } from './flow-schema.js';

/**
 * Flows are validated whole on save: schema, format options, then every transform compiles (expressions
 * included).
 */
export function flowKind(extensions: {
  formats: FormatRegistry;
  transforms: TransformRegistry;
}): DefinitionKind<FlowSpec> {
  const schema = flowSchema(extensions);
  return {
    kind: 'flow',
    plural: 'flows',
    title: 'Flow',
    schema,
    order: 20,
    validate(input) {
      const spec = validate(schema, input, 'flow');
      if (spec.type === 'transfer') {
        spec.steps.forEach((step, i) => {
          for (const [end, format] of [
            ['from', step.from.format],
            ['to', step.to.format],
          ] as const) {
            if (format) bindAt(extensions.formats, format, `steps[${i}].${end}.format`);
          }
          extensions.transforms.compile(step.transforms ?? [], `steps[${i}].transforms`);
        });
      }
      return spec;
    },
  };
}

/** A step's format options checked by the format itself, the error naming where in the flow they are. */
function bindAt(formats: FormatRegistry, format: FormatSpec, path: string): void {
  try {
    formats.bind(format);
  } catch (err) {
    if (err instanceof AppError) {
      throw new AppError(err.code, `${path}: ${err.message}`, {
        ...(err.details ? { details: err.details } : {}),
        cause: err,
      });
    }
    throw err;
  }
}
