/** Public entry of the transforms layer, for the flow engine and the API schemas. */
export { BUILTIN_TRANSFORMS, type BuiltinTransformType, builtinTransforms } from './builtin-transforms.js';
export type { CompiledTransforms } from './compile-transforms.js';
export {
  type AnalyzedExpression,
  analyzeExpression,
  type CompiledExpression,
  compileExpression,
} from './expression.js';
export { ExpressionRuntimeError } from './expression-error.js';
export type { Stage } from './stage.js';
export type { TransformDef } from './transform-def.js';
export { TransformRegistry } from './transform-registry.js';
export { defineTransform, type TransformType } from './transform-type.js';
