/**
 * Recursive-descent parser from tokens to an AST. The grammar has no member access, no calls on
 * values and no assignment: a column can only be read by name, a function only called by a name from
 * the fixed library (checked by the compiler). Depth and length are bounded so a hostile expression
 * cannot exhaust the stack.
 *
 * Precedence, lowest first: `? :`, `or`, `and`, `not`, comparisons / `in` / `is null`, `&`, `+ -`,
 * `* / %`, unary `- +`.
 */
import type { Decimal } from '../core/decimal.js';
import { ExpressionSyntaxError } from './expression-error.js';
import { type Token, tokenize } from './expression-lexer.js';

export type BinaryOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '&'
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'and'
  | 'or';

export type Node =
  | { kind: 'literal'; value: string | number | bigint | Decimal | boolean | null; pos: number }
  | { kind: 'column'; name: string; pos: number }
  | { kind: 'param'; name: string; pos: number }
  | { kind: 'neg' | 'plus' | 'not'; arg: Node; pos: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; pos: number }
  | { kind: 'in'; arg: Node; list: Node[]; negated: boolean; pos: number }
  | { kind: 'isnull'; arg: Node; negated: boolean; pos: number }
  | { kind: 'cond'; test: Node; whenTrue: Node; whenFalse: Node; pos: number }
  | { kind: 'call'; name: string; args: Node[]; pos: number };

export const MAX_DEPTH = 64;

/**
 * Names that could only be an attempt to reach JavaScript internals. They are refused as bare
 * identifiers; a real column with such a name can still be read as `process` in backticks, except
 * for the prototype names, which no data column needs.
 */
const RESERVED = new Set([
  'this',
  'globalThis',
  'global',
  'window',
  'self',
  'process',
  'require',
  'module',
  'exports',
  'import',
  'eval',
  'Function',
  'arguments',
  'new',
  'function',
  'return',
]);
const FORBIDDEN_ALWAYS = new Set(['__proto__', 'constructor', 'prototype']);

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false']);
const COMPARISONS: Record<string, BinaryOp> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

export function parseExpression(source: string): Node {
  return new Parser(tokenize(source)).parseAll();
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parseAll(): Node {
    if (this.peek().kind === 'eof') throw new ExpressionSyntaxError(1, 'expression is empty');
    const node = this.ternary();
    const t = this.peek();
    if (t.kind !== 'eof') throw new ExpressionSyntaxError(t.pos, `unexpected '${t.text}'`);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }
  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'ident' && t.text.toLowerCase() === word;
  }
  private expectOp(text: string): Token {
    const t = this.next();
    if (t.kind !== 'op' || t.text !== text) {
      throw new ExpressionSyntaxError(t.pos, `expected '${text}' but found ${describe(t)}`);
    }
    return t;
  }
  /** Every recursive descent passes through here, so nesting is bounded in one place. */
  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) {
      throw new ExpressionSyntaxError(pos, `expression is nested deeper than ${MAX_DEPTH} levels`);
    }
  }

  private ternary(): Node {
    this.enter(this.peek().pos);
    const test = this.or();
    let node = test;
    if (this.isOp('?')) {
      const pos = this.next().pos;
      const whenTrue = this.ternary();
      this.expectOp(':');
      const whenFalse = this.ternary();
      node = { kind: 'cond', test, whenTrue, whenFalse, pos };
    }
    this.depth--;
    return node;
  }

  private or(): Node {
    let left = this.and();
    while (this.isKeyword('or')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: 'or', left, right: this.and(), pos };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.isKeyword('and')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: 'and', left, right: this.not(), pos };
    }
    return left;
  }

  private not(): Node {
    if (this.isKeyword('not')) {
      const pos = this.next().pos;
      this.enter(pos);
      const arg = this.not();
      this.depth--;
      return { kind: 'not', arg, pos };
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.concat();
    const t = this.peek();
    if (t.kind === 'op' && COMPARISONS[t.text] !== undefined) {
      this.next();
      return { kind: 'binary', op: COMPARISONS[t.text]!, left, right: this.concat(), pos: t.pos };
    }
    if (this.isKeyword('is')) {
      this.next();
      const negated = this.isKeyword('not');
      if (negated) this.next();
      const n = this.next();
      if (n.kind !== 'ident' || n.text.toLowerCase() !== 'null') {
        throw new ExpressionSyntaxError(n.pos, `expected 'null' after 'is' but found ${describe(n)}`);
      }
      return { kind: 'isnull', arg: left, negated, pos: t.pos };
    }
    const negated = this.isKeyword('not');
    if (negated || this.isKeyword('in')) {
      if (negated) {
        this.next();
        if (!this.isKeyword('in')) {
          throw new ExpressionSyntaxError(this.peek().pos, "expected 'in' after 'not'");
        }
      }
      this.next();
      this.expectOp('(');
      const list = this.list(')');
      return { kind: 'in', arg: left, list, negated, pos: t.pos };
    }
    return left;
  }

  private concat(): Node {
    let left = this.additive();
    while (this.isOp('&')) {
      const pos = this.next().pos;
      left = { kind: 'binary', op: '&', left, right: this.additive(), pos };
    }
    return left;
  }

  private additive(): Node {
    let left = this.multiplicative();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      const op = t.text === '+' ? '+' : '-';
      left = { kind: 'binary', op, left, right: this.multiplicative(), pos: t.pos };
    }
    return left;
  }

  private multiplicative(): Node {
    let left = this.unary();
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const t = this.next();
      const op = t.text === '*' ? '*' : t.text === '/' ? '/' : '%';
      left = { kind: 'binary', op, left, right: this.unary(), pos: t.pos };
    }
    return left;
  }

  private unary(): Node {
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      this.enter(t.pos);
      const arg = this.unary();
      this.depth--;
      return { kind: t.text === '-' ? 'neg' : 'plus', arg, pos: t.pos };
    }
    return this.primary();
  }

  /** Comma-separated expressions up to `close`, e.g. function arguments or an `in` list. */
  private list(close: string): Node[] {
    const items: Node[] = [];
    if (this.isOp(close)) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.ternary());
      if (this.isOp(',')) {
        this.next();
        continue;
      }
      this.expectOp(close);
      return items;
    }
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'number':
        return { kind: 'literal', value: t.value, pos: t.pos };
      case 'string':
        return { kind: 'literal', value: t.text, pos: t.pos };
      case 'param':
        return { kind: 'param', name: t.text, pos: t.pos };
      case 'quoted':
        return column(t.text, t.pos);
      case 'ident':
        return this.identifier(t);
      case 'op':
        if (t.text === '(') {
          const inner = this.ternary();
          this.expectOp(')');
          return inner;
        }
        break;
      case 'eof':
        throw new ExpressionSyntaxError(t.pos, 'unexpected end of expression');
    }
    throw new ExpressionSyntaxError(t.pos, `unexpected '${t.text}'`);
  }

  private identifier(t: Token): Node {
    const lower = t.text.toLowerCase();
    if (lower === 'null') return { kind: 'literal', value: null, pos: t.pos };
    if (lower === 'true') return { kind: 'literal', value: true, pos: t.pos };
    if (lower === 'false') return { kind: 'literal', value: false, pos: t.pos };
    if (KEYWORDS.has(lower)) throw new ExpressionSyntaxError(t.pos, `unexpected '${t.text}'`);
    if (RESERVED.has(t.text) || FORBIDDEN_ALWAYS.has(t.text)) {
      throw new ExpressionSyntaxError(t.pos, `'${t.text}' is not allowed in an expression`);
    }
    if (this.isOp('(')) {
      this.next();
      this.enter(t.pos);
      const args = this.list(')');
      this.depth--;
      if (lower === 'if') {
        if (args.length !== 3) throw new ExpressionSyntaxError(t.pos, 'if() takes 3 arguments');
        return { kind: 'cond', test: args[0]!, whenTrue: args[1]!, whenFalse: args[2]!, pos: t.pos };
      }
      return { kind: 'call', name: lower, args, pos: t.pos };
    }
    if (t.text === 'row' && this.isOp('[')) {
      this.next();
      const key = this.next();
      if (key.kind !== 'string') {
        throw new ExpressionSyntaxError(key.pos, 'row[...] takes a quoted column name');
      }
      this.expectOp(']');
      return column(key.text, key.pos);
    }
    return column(t.text, t.pos);
  }
}

function column(name: string, pos: number): Node {
  if (FORBIDDEN_ALWAYS.has(name)) {
    throw new ExpressionSyntaxError(pos, `'${name}' is not allowed as a column name`);
  }
  return { kind: 'column', name, pos };
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'the end of the expression' : `'${t.text}'`;
}
