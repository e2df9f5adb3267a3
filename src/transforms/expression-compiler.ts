/**
 * Compiles an AST into a tree of closures, once per expression. Evaluating is then a few direct
 * function calls per row with no interpretation overhead, no `eval`, and no way to reach anything the
 * closures do not name. Constant sub-expressions are folded at compile time, which also turns mistakes
 * like `1 / 0` or `'a' * 2` into compile-time errors.
 */
import type { Row } from '../core/records.js';
import { ExpressionRuntimeError, ExpressionSyntaxError } from './expression-error.js';
import { FUNCTIONS, regex } from './expression-functions.js';
import type { BinaryOp, Node } from './expression-parser.js';
import {
  compare,
  equals,
  exactArithmetic,
  isExact,
  isNumericText,
  negate,
  operandNumber,
  text,
  truthy,
} from './expression-values.js';

export type Evaluator = (row: Row, params: Record<string, unknown>) => unknown;

export function compileNode(node: Node): Evaluator {
  const evaluator = build(node);
  if (node.kind === 'literal' || !isConstant(node)) return evaluator;
  let value: unknown;
  try {
    value = evaluator({}, {});
  } catch (err) {
    if (err instanceof ExpressionRuntimeError) throw new ExpressionSyntaxError(node.pos, err.message);
    throw err;
  }
  return () => value;
}

function isConstant(node: Node): boolean {
  switch (node.kind) {
    case 'literal':
      return true;
    case 'column':
    case 'param':
      return false;
    case 'neg':
    case 'plus':
    case 'not':
    case 'isnull':
      return isConstant(node.arg);
    case 'binary':
      return isConstant(node.left) && isConstant(node.right);
    case 'in':
      return isConstant(node.arg) && node.list.every(isConstant);
    case 'cond':
      return isConstant(node.test) && isConstant(node.whenTrue) && isConstant(node.whenFalse);
    case 'call':
      return FUNCTIONS.get(node.name)?.pure === true && node.args.every(isConstant);
  }
}

/** How an operand is named in runtime errors: the column or parameter it reads, if any. */
function label(node: Node): string {
  if (node.kind === 'column') return `column '${node.name}'`;
  if (node.kind === 'param') return `parameter '${node.name}'`;
  return `the value at position ${node.pos}`;
}

function build(node: Node): Evaluator {
  switch (node.kind) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'column':
      return columnReader(node.name);
    case 'param': {
      const name = node.name;
      return (_row, params) => {
        // hasOwn, so a parameter named like an Object.prototype member is never resolved through it.
        if (!Object.hasOwn(params, name)) throw new ExpressionRuntimeError(`parameter '${name}' is not set`);
        return params[name] ?? null;
      };
    }
    case 'neg': {
      const arg = compileNode(node.arg);
      const where = label(node.arg);
      return (row, p) => {
        const v = arg(row, p);
        return v === null || v === undefined ? null : negate(v, where);
      };
    }
    case 'plus': {
      const arg = compileNode(node.arg);
      const where = label(node.arg);
      return (row, p) => {
        const v = arg(row, p);
        return v === null || v === undefined ? null : isExact(v) ? v : operandNumber(v, '+', where);
      };
    }
    case 'not': {
      const arg = compileNode(node.arg);
      return (row, p) => !truthy(arg(row, p));
    }
    case 'isnull': {
      const arg = compileNode(node.arg);
      return node.negated
        ? (row, p) => {
            const v = arg(row, p);
            return v !== null && v !== undefined;
          }
        : (row, p) => {
            const v = arg(row, p);
            return v === null || v === undefined;
          };
    }
    case 'in': {
      const arg = compileNode(node.arg);
      const list = node.list.map(compileNode);
      const negated = node.negated;
      return (row, p) => {
        const v = arg(row, p);
        if (v === null || v === undefined) return false;
        for (const item of list) if (equals(v, item(row, p))) return !negated;
        return negated;
      };
    }
    case 'cond': {
      const test = compileNode(node.test);
      const whenTrue = compileNode(node.whenTrue);
      const whenFalse = compileNode(node.whenFalse);
      return (row, p) => (truthy(test(row, p)) ? whenTrue(row, p) : whenFalse(row, p));
    }
    case 'binary':
      return binary(node.op, node.left, node.right);
    case 'call':
      return call(node.name, node.args, node.pos);
  }
}

/**
 * Reads a column. Names that exist on Object.prototype (`toString`, `valueOf`, …) are read with an
 * own-property check, so a row without such a column yields null instead of an inherited function.
 */
function columnReader(name: string): Evaluator {
  if (name in Object.prototype) {
    return (row) => (Object.hasOwn(row, name) ? (row[name] ?? null) : null);
  }
  return (row) => {
    const v = row[name];
    return v === undefined ? null : v;
  };
}

function binary(op: BinaryOp, leftNode: Node, rightNode: Node): Evaluator {
  const l = compileNode(leftNode);
  const r = compileNode(rightNode);
  const ll = label(leftNode);
  const rl = label(rightNode);
  switch (op) {
    case 'and':
      return (row, p) => truthy(l(row, p)) && truthy(r(row, p));
    case 'or':
      return (row, p) => truthy(l(row, p)) || truthy(r(row, p));
    case '&':
      return (row, p) => text(l(row, p)) + text(r(row, p));
    case '=':
      return (row, p) => equals(l(row, p), r(row, p));
    case '!=':
      return (row, p) => {
        const a = l(row, p);
        const b = r(row, p);
        if (a === null || a === undefined || b === null || b === undefined) return false;
        return !equals(a, b);
      };
    case '<':
    case '<=':
    case '>':
    case '>=':
      return comparison(op, l, r);
    case '+':
      return (row, p) => {
        const a = l(row, p);
        const b = r(row, p);
        if (typeof a === 'number' && typeof b === 'number') return a + b;
        if (a === null || a === undefined || b === null || b === undefined) return null;
        return plus(a, b, ll, rl);
      };
    default:
      return arithmetic(op, l, r, ll, rl);
  }
}

/** `+` beyond two numbers: numeric text next to a number adds; otherwise text concatenates. */
function plus(a: unknown, b: unknown, ll: string, rl: string): unknown {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (isExact(a) || isExact(b)) {
    // Text that is no number next to an exact number concatenates, as it does next to a number.
    const textual = (v: unknown) => typeof v === 'string' && !isNumericText(v);
    if (textual(a) || textual(b)) return text(a) + text(b);
    return exactArithmetic('+', a, b, ll, rl);
  }
  if (typeof a === 'string') return typeof b === 'number' && isNumericText(a) ? Number(a) + b : a + text(b);
  if (typeof b === 'string') return typeof a === 'number' && isNumericText(b) ? a + Number(b) : text(a) + b;
  return operandNumber(a, '+', ll) + operandNumber(b, '+', rl);
}

function comparison(op: '<' | '<=' | '>' | '>=', l: Evaluator, r: Evaluator): Evaluator {
  const test =
    op === '<'
      ? (c: number) => c < 0
      : op === '<='
        ? (c: number) => c <= 0
        : op === '>'
          ? (c: number) => c > 0
          : (c: number) => c >= 0;
  return (row, p) => {
    const a = l(row, p);
    const b = r(row, p);
    if (a === null || a === undefined || b === null || b === undefined) return false;
    // NaN (incomparable values) fails every test, so e.g. 'abc' < 5 is simply false.
    return test(compare(a, b));
  };
}

function arithmetic(
  op: '-' | '*' | '/' | '%',
  l: Evaluator,
  r: Evaluator,
  ll: string,
  rl: string,
): Evaluator {
  const apply =
    op === '-'
      ? (a: number, b: number) => a - b
      : op === '*'
        ? (a: number, b: number) => a * b
        : (a: number, b: number) => {
            if (b === 0) throw new ExpressionRuntimeError(`division by zero: ${rl} is 0`);
            return op === '/' ? a / b : a % b;
          };
  if (op === '*') {
    // The most common computed column (price * qty) gets a path without the generic helper call.
    return (row, p) => {
      const a = l(row, p);
      const b = r(row, p);
      if (typeof a === 'number' && typeof b === 'number') return a * b;
      if (a === null || a === undefined || b === null || b === undefined) return null;
      if (isExact(a) || isExact(b)) return exactArithmetic(op, a, b, ll, rl);
      return operandNumber(a, op, ll) * operandNumber(b, op, rl);
    };
  }
  return (row, p) => {
    const a = l(row, p);
    const b = r(row, p);
    if (a === null || a === undefined || b === null || b === undefined) return null;
    if (isExact(a) || isExact(b)) return exactArithmetic(op, a, b, ll, rl);
    return apply(
      typeof a === 'number' ? a : operandNumber(a, op, ll),
      typeof b === 'number' ? b : operandNumber(b, op, rl),
    );
  };
}

function call(name: string, argNodes: Node[], pos: number): Evaluator {
  const def = FUNCTIONS.get(name);
  if (!def) throw new ExpressionSyntaxError(pos, `unknown function '${name}'${suggest(name)}`);
  if (argNodes.length < def.min || argNodes.length > def.max) {
    const want =
      def.min === def.max
        ? `${def.min}`
        : def.max >= 100
          ? `at least ${def.min}`
          : `${def.min} to ${def.max}`;
    throw new ExpressionSyntaxError(pos, `${name}() takes ${want} argument(s), not ${argNodes.length}`);
  }
  const pattern = argNodes[1];
  if (name === 'matches' && pattern?.kind === 'literal' && typeof pattern.value === 'string') {
    try {
      regex(pattern.value, '');
    } catch (err) {
      if (err instanceof ExpressionRuntimeError) throw new ExpressionSyntaxError(pattern.pos, err.message);
      throw err;
    }
  }
  const fn = def.fn;
  const args = argNodes.map(compileNode);
  const where = argNodes[0] ? ` (${label(argNodes[0])})` : '';
  const guard = (err: unknown): never => {
    if (err instanceof ExpressionRuntimeError) throw err;
    throw new ExpressionRuntimeError(
      `${name}()${where}: ${err instanceof Error ? err.message : String(err)}`,
    );
  };
  const [a, b, c] = args;
  // Fixed arities call the function directly, so no argument array is allocated per row.
  if (args.length === 0) return () => fn();
  if (args.length === 1 && a) {
    return (row, p) => {
      try {
        return fn(a(row, p));
      } catch (err) {
        return guard(err);
      }
    };
  }
  if (args.length === 2 && a && b) {
    return (row, p) => {
      try {
        return fn(a(row, p), b(row, p));
      } catch (err) {
        return guard(err);
      }
    };
  }
  if (args.length === 3 && a && b && c) {
    return (row, p) => {
      try {
        return fn(a(row, p), b(row, p), c(row, p));
      } catch (err) {
        return guard(err);
      }
    };
  }
  return (row, p) => {
    try {
      return fn(...args.map((arg) => arg(row, p)));
    } catch (err) {
      return guard(err);
    }
  };
}

function suggest(name: string): string {
  let best = '';
  let bestDistance = 3;
  for (const candidate of FUNCTIONS.keys()) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean '${best}'?)` : '';
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
