import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import type { FormatRegistry } from '../formats/format-registry.js';
import type { TransformRegistry } from '../transforms/transform-registry.js';
import { type FlowSpec, flowSchema } from './flow-schema.js';

/** Flows are validated whole on save: schema, then every transform compiles (expressions included). */
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
          extensions.transforms.compile(step.transforms ?? [], `steps[${i}].transforms`);
        });
      }
      return spec;
    },
  };
}
