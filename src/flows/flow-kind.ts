import { answerHeadersProblem } from '../connectors/http/http-answers.js';
import { AppError } from '../core/errors.js';
import { validate } from '../core/validate.js';
import type { DefinitionKind, DefinitionRef } from '../definitions/definition-kind.js';
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
          const responses = step.to.responses;
          if (responses) {
            const at = `steps[${i}].to.responses`;
            if (step.to.request === undefined) {
              throw new AppError('VALIDATION_FAILED', `${at} applies to an http destination (to.request)`, {
                details: [{ path: `/steps/${i}/to/responses`, message: 'needs to.request' }],
              });
            }
            const problem = answerHeadersProblem(responses.headers ?? []);
            if (problem) {
              throw new AppError('VALIDATION_FAILED', `${at}.headers: ${problem}`, {
                details: [{ path: `/steps/${i}/to/responses/headers`, message: problem }],
              });
            }
            if (responses.format) bindAt(extensions.formats, responses.format, `${at}.format`);
          }
          extensions.transforms.compile(step.transforms ?? [], `steps[${i}].transforms`);
        });
      }
      return spec;
    },
    references(spec) {
      const refs: DefinitionRef[] = [];
      const connection = (name: string, path: string) => {
        // @request and @response are the listener's body and answer, not stored connections.
        if (!name.startsWith('@')) refs.push({ kind: 'connection', name, path });
      };
      if (spec.type === 'transfer') {
        spec.steps.forEach((step, i) => {
          connection(step.from.connection, `/steps/${i}/from/connection`);
          connection(step.to.connection, `/steps/${i}/to/connection`);
          if (step.to.responses)
            connection(step.to.responses.connection, `/steps/${i}/to/responses/connection`);
        });
      } else if (spec.type === 'sql') connection(spec.connection, '/connection');
      else {
        spec.flows.forEach((f, i) => {
          refs.push({ kind: 'flow', name: f.flow, path: `/flows/${i}/flow` });
        });
      }
      return refs;
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
