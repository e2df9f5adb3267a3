/**
 * Tokens of the expression language. The lexer is the first line of the safety argument: it only
 * produces the token kinds below, so nothing else (member access with `.`, calls on values, template
 * strings, regex literals) can ever reach the parser.
 */
import { type Decimal, numberOfText } from '../core/decimal.js';
import { ExpressionSyntaxError } from './expression-error.js';

export type TokenKind = 'number' | 'string' | 'ident' | 'quoted' | 'param' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier/keyword text, operator text, the decoded string, or the parameter name. */
  text: string;
  /**
   * Value of a `number` token, by the JSON number rule (docs/values.md): `0.1` is a double, an integer
   * beyond 2^53 a bigint, a literal no double holds exactly (`12345678901234567890.5`) a decimal.
   */
  value: number | bigint | Decimal;
  /** 1-based column in the source, for error messages. */
  pos: number;
}

/** Longer inputs are rejected: an expression is a formula, not a program, and this bounds compile time. */
export const MAX_EXPRESSION_LENGTH = 4000;

const TWO_CHAR_OPS = new Set(['==', '!=', '<>', '<=', '>=']);
const ONE_CHAR_OPS = new Set([
  '+',
  '-',
  '*',
  '/',
  '%',
  '&',
  '=',
  '<',
  '>',
  '(',
  ')',
  ',',
  '?',
  ':',
  '[',
  ']',
]);

const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string) => isIdentStart(c) || isDigit(c);

export function tokenize(source: string): Token[] {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionSyntaxError(1, `expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  const push = (kind: TokenKind, text: string, pos: number, value: Token['value'] = 0) =>
    tokens.push({ kind, text, value, pos: pos + 1 });

  while (i < n) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c) || (c === '.' && isDigit(source[i + 1] ?? ''))) {
      while (i < n && isDigit(source[i]!)) i++;
      if (source[i] === '.') {
        i++;
        while (i < n && isDigit(source[i]!)) i++;
      }
      if (source[i] === 'e' || source[i] === 'E') {
        let j = i + 1;
        if (source[j] === '+' || source[j] === '-') j++;
        if (isDigit(source[j] ?? '')) {
          i = j;
          while (i < n && isDigit(source[i]!)) i++;
        }
      }
      if (i < n && isIdentPart(source[i]!)) {
        throw new ExpressionSyntaxError(start + 1, `invalid number '${source.slice(start, i + 1)}'`);
      }
      const text = source.slice(start, i);
      let value: Token['value'];
      try {
        value = numberOfText(text);
      } catch {
        throw new ExpressionSyntaxError(start + 1, `the number ${text.slice(0, 40)} is out of range`);
      }
      push('number', text, start, value);
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(source[i]!)) i++;
      push('ident', source.slice(start, i), start);
      continue;
    }
    if (c === "'" || c === '"') {
      const [text, end] = readQuoted(source, i, c, 'string');
      push('string', text, start);
      i = end;
      continue;
    }
    if (c === '`') {
      const [text, end] = readQuoted(source, i, c, 'column name');
      if (text === '') throw new ExpressionSyntaxError(start + 1, 'empty column name');
      push('quoted', text, start);
      i = end;
      continue;
    }
    if (c === '$') {
      i++;
      while (i < n && isIdentPart(source[i]!)) i++;
      const name = source.slice(start + 1, i);
      if (name === '' || !isIdentStart(name[0]!)) {
        throw new ExpressionSyntaxError(start + 1, "expected a parameter name after '$'");
      }
      push('param', name, start);
      continue;
    }
    if (c === '{') {
      const close = source.indexOf('}', i);
      const name = close < 0 ? '' : source.slice(i + 1, close).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new ExpressionSyntaxError(start + 1, "expected '{name}' with a parameter name");
      }
      push('param', name, start);
      i = close + 1;
      continue;
    }
    const two = source.slice(i, i + 2);
    if (TWO_CHAR_OPS.has(two)) {
      push('op', two, start);
      i += 2;
      continue;
    }
    if (ONE_CHAR_OPS.has(c)) {
      push('op', c, start);
      i++;
      continue;
    }
    throw new ExpressionSyntaxError(start + 1, `unexpected character '${c}'`);
  }
  push('eof', '', n);
  return tokens;
}

const ESCAPES: Record<string, string | undefined> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
};

/** Reads a quoted run; the quote is escaped by doubling it (SQL style) or with a backslash.
 * Only \n \t \r and a backslash before a backslash or quote are escapes. */
function readQuoted(source: string, start: number, quote: string, what: string): [string, number] {
  let out = '';
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) break;
      // Only these escapes are decoded; any other backslash stays, so regex patterns read naturally.
      const decoded = ESCAPES[next];
      if (decoded === undefined) {
        out += c;
        i++;
      } else {
        out += decoded;
        i += 2;
      }
      continue;
    }
    if (c === quote) {
      if (source[i + 1] === quote) {
        out += quote;
        i += 2;
        continue;
      }
      return [out, i + 1];
    }
    out += c;
    i++;
  }
  throw new ExpressionSyntaxError(start + 1, `unterminated ${what}`);
}
