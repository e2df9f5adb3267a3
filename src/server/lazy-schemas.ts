import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';

type Validators = AjvCompiler.ValidatorCompiler;
type Validate = ReturnType<Validators>;
type AjvOptions = NonNullable<Parameters<AjvCompiler.ValidatorFactory>[1]>;
type SharedSchemas = Parameters<AjvCompiler.ValidatorFactory>[0];
type ValidationResult = ReturnType<FastifySchemaCompiler<unknown>>;

const isSchema = (value: unknown): value is SharedSchemas[string] =>
  typeof value === 'boolean' || (typeof value === 'object' && value !== null);

/** The schemas added with `app.addSchema`, as the compilers take them. */
function sharedSchemas(app: FastifyInstance): SharedSchemas {
  return Object.fromEntries(
    Object.entries(app.getSchemas()).filter((e): e is [string, SharedSchemas[string]] => isSchema(e[1])),
  );
}

/**
 * Compiles a route's request validator (Ajv) and response serializers (fast-json-stringify) on the
 * route's first request instead of when the app starts. Fastify compiles every route's schemas at
 * start-up: for this API that is most of the start-up time and a good part of the idle memory, spent
 * on routes a process may never serve. The compilers are Fastify's own with the same options, and the
 * shared schemas (`app.addSchema`) are read when the first route compiles, after all were added.
 * Bodies get their own options: a query string or a path only carries text, so its numbers and
 * booleans are coerced, while a JSON body says what type each value is and is taken at its word.
 * Call right after creating the app, before any route is added.
 */
export function compileSchemasOnFirstUse(
  app: FastifyInstance,
  ajv: AjvOptions,
  bodyAjv: AjvOptions = ajv,
): void {
  let validators: Validators | undefined;
  let bodyValidators: Validators | undefined;
  app.setValidatorCompiler((route) => {
    let compiled: Validate | undefined;
    const validate: ValidationResult = (data: unknown) => {
      if (compiled === undefined) {
        if (route.httpPart === 'body') {
          bodyValidators ??= AjvCompiler()(sharedSchemas(app), bodyAjv);
          compiled = bodyValidators(route);
        } else {
          validators ??= AjvCompiler()(sharedSchemas(app), ajv);
          compiled = validators(route);
        }
      }
      const valid = compiled(data);
      // Only an `$async` schema answers with a promise, and no route declares one.
      if (typeof valid !== 'boolean')
        throw new Error(`${route.method} ${route.url}: async schemas are not supported`);
      // Fastify reads the errors off the function it was given.
      validate.errors = compiled.errors;
      return valid;
    };
    return validate;
  });
  let serializers: ReturnType<ReturnType<typeof SerializerSelector>> | undefined;
  app.setSerializerCompiler((route) => {
    let serialize: ((data: unknown) => string) | undefined;
    return (data) => {
      serializers ??= SerializerSelector()(sharedSchemas(app));
      serialize ??= serializers({ ...route, httpStatus: route.httpStatus ?? 'default' });
      return serialize(data);
    };
  });
}
