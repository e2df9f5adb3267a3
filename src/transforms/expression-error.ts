/**
 * Errors raised inside the expression engine. They carry only what the engine knows (a source
 * position, or the failing operation); the caller that knows the config path and record number turns
 * them into AppErrors, so the engine stays independent of where expressions are used.
 */

/** A compile-time problem at a 1-based column of the expression source. */
export class ExpressionSyntaxError extends Error {
  readonly position: number;
  constructor(position: number, message: string) {
    super(message);
    this.name = 'ExpressionSyntaxError';
    this.position = position;
  }
}

/** A problem while evaluating one row, e.g. `'abc' * 2`; the message names the column involved. */
export class ExpressionRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionRuntimeError';
  }
}
