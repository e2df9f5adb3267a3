import type { Static, TLiteral, TObject, TProperties } from '@sinclair/typebox';
import type { Stage } from './stage.js';

/** The schema of one transform as a flow writes it: an object whose `type` names the transform. */
export type TransformSchema<Name extends string = string> = TObject<TProperties & { type: TLiteral<Name> }>;

/**
 * One kind of transform, described as data: its name, the schema of its settings in a flow (which
 * serves validation, the OpenAPI document and the docs), and how to compile those settings into a
 * stage. `compile` is called once per flow definition, only with settings that passed `schema`; it
 * throws VALIDATION_FAILED (see stage.ts `invalid`) naming `path` for settings it cannot use.
 */
export interface TransformType<
  Schema extends TransformSchema = TransformSchema,
  Name extends string = string,
> {
  readonly type: Name;
  readonly schema: Schema;
  compile(def: Static<Schema>, path: string): Stage;
}

/** Declares a transform, keeping its name literal so lists of transforms yield a union of their names. */
export function defineTransform<const Name extends string, Schema extends TransformSchema<Name>>(
  transform: TransformType<Schema, Name>,
): TransformType<Schema, Name> {
  return transform;
}
