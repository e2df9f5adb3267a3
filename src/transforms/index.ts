/** Public entry of the transforms layer, for the flow engine and the API schemas. */
export { type CompiledTransforms, compileTransforms } from './compile-transforms.js';
export {
  type AnalyzedExpression,
  analyzeExpression,
  type CompiledExpression,
  compileExpression,
} from './expression.js';
export { ExpressionRuntimeError } from './expression-error.js';
export { TransformDef, TransformList, validateTransforms } from './transform-def.js';
