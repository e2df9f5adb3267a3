/**
 * The public face of the expression language used by computed columns and filters. Compile once per
 * flow run, then call the result per row. See docs/transforms.md for the syntax.
 *
 * Safety: the source is tokenized and parsed into a small AST (no member access, no calls on values,
 * no identifiers outside columns, parameters and a fixed function library) and compiled to closures;
 * nothing is ever handed to `eval` or `new Function`.
 */

import { AppError } from '../core/errors.js';
import type { ColumnType, Row } from '../core/records.js';
import { compileNode } from './expression-compiler.js';
import { ExpressionRuntimeError, ExpressionSyntaxError } from './expression-error.js';
import { type Node, parseExpression } from './expression-parser.js';
import { inferType, referencedColumns } from './expression-types.js';

export type CompiledExpression = (row: Row, params: Record<string, unknown>) => unknown;

export interface AnalyzedExpression {
  evaluate: CompiledExpression;
  /** Columns the expression reads. */
  columns: ReadonlySet<string>;
  /** The column type of the result given the input column types. */
  type(columnType: (name: string) => ColumnType | undefined): ColumnType;
}

/**
 * Compiles `source`; `path` is where it sits in the configuration (e.g.
 * `steps[0].transforms[1].where`) and prefixes every compile error. Throws AppError VALIDATION_FAILED
 * with the position. The returned function throws ExpressionRuntimeError for bad values at run time
 * (its message names the column involved); callers add the record number.
 */
export function compileExpression(source: string, path: string): CompiledExpression {
  return analyzeExpression(source, path).evaluate;
}

export function analyzeExpression(source: string, path: string): AnalyzedExpression {
  let ast: Node;
  let evaluate: CompiledExpression;
  try {
    ast = parseExpression(source);
    evaluate = compileNode(ast);
  } catch (err) {
    if (err instanceof ExpressionSyntaxError) {
      const message = `at column ${err.position}: ${err.message}`;
      throw new AppError('VALIDATION_FAILED', `${path} ${message}`, { details: [{ path, message }] });
    }
    if (err instanceof RangeError) {
      // A stack overflow despite the depth limit (e.g. a very long chain of `+`) is still bad input.
      const message = 'expression is too complex';
      throw new AppError('VALIDATION_FAILED', `${path}: ${message}`, { details: [{ path, message }] });
    }
    throw err;
  }
  const tree = ast;
  return {
    evaluate,
    columns: referencedColumns(tree),
    type: (columnType) => inferType(tree, columnType),
  };
}

export { ExpressionRuntimeError };
