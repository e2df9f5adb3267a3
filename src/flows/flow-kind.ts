import { validate } from '../core/validate.js';
import type { DefinitionKind } from '../definitions/definition-kind.js';
import { compileTransforms } from '../transforms/compile-transforms.js';
import { FlowSpec } from './flow-schema.js';

/** Flows are validated whole on save: schema, then every transform compiles (expressions included). */
export const flowKind: DefinitionKind<FlowSpec> = {
  kind: 'flow',
  plural: 'flows',
  title: 'Flow',
  schema: FlowSpec,
  order: 20,
  validate(input) {
    const spec = validate(FlowSpec, input, 'flow');
    if (spec.type === 'transfer') {
      spec.steps.forEach((step, i) => {
        compileTransforms(step.transforms ?? [], `steps[${i}].transforms`);
      });
    }
    return spec;
  },
};
