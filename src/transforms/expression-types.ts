/**
 * Static facts about an expression that the transforms need before any row flows: the column type of
 * its result (so a destination can create a computed column with a sensible type) and the columns it
 * reads (so a typo in a column name fails when the flow is checked, not after a million rows).
 */
import { isDecimal } from '../core/decimal.js';
import type { ColumnType } from '../core/records.js';
import { FUNCTIONS } from './expression-functions.js';
import type { Node } from './expression-parser.js';

/** Columns are typed from their input columns; anything not inferable is text. */
export function inferType(node: Node, columnType: (name: string) => ColumnType | undefined): ColumnType {
  switch (node.kind) {
    case 'literal':
      if (typeof node.value === 'number') return Number.isInteger(node.value) ? 'integer' : 'number';
      if (typeof node.value === 'bigint') return 'bigint';
      if (isDecimal(node.value)) return 'decimal';
      if (typeof node.value === 'boolean') return 'boolean';
      return 'text';
    case 'column':
      return columnType(node.name) ?? 'text';
    case 'param':
      return 'text';
    case 'neg':
    case 'plus':
      return numeric(inferType(node.arg, columnType));
    case 'not':
    case 'isnull':
    case 'in':
      return 'boolean';
    case 'cond': {
      const a = inferType(node.whenTrue, columnType);
      const b = inferType(node.whenFalse, columnType);
      if (node.whenFalse.kind === 'literal' && node.whenFalse.value === null) return a;
      if (node.whenTrue.kind === 'literal' && node.whenTrue.value === null) return b;
      return a === b ? a : 'text';
    }
    case 'call': {
      if (node.name === 'coalesce') {
        const types = new Set(node.args.map((arg) => inferType(arg, columnType)));
        return types.size === 1 ? [...types][0]! : 'text';
      }
      // Exact in, exact out (see expression-functions.ts).
      if (EXACT_FUNCTIONS.has(node.name) && node.args[0] && inferType(node.args[0], columnType) === 'decimal')
        return node.name === 'floor' || node.name === 'ceil' ? 'bigint' : 'decimal';
      return FUNCTIONS.get(node.name)?.type ?? 'text';
    }
    case 'binary':
      switch (node.op) {
        case 'and':
        case 'or':
        case '=':
        case '!=':
        case '<':
        case '<=':
        case '>':
        case '>=':
          return 'boolean';
        case '&':
          return 'text';
        case '+': {
          const a = inferType(node.left, columnType);
          const b = inferType(node.right, columnType);
          return isNumeric(a) && isNumeric(b) ? widen(a, b) : 'text';
        }
        case '/': {
          const exact =
            inferType(node.left, columnType) === 'decimal' || inferType(node.right, columnType) === 'decimal';
          return exact ? 'decimal' : 'number';
        }
        default:
          return widen(numeric(inferType(node.left, columnType)), numeric(inferType(node.right, columnType)));
      }
  }
}

const EXACT_FUNCTIONS = new Set(['round', 'abs', 'floor', 'ceil']);
const isNumeric = (t: ColumnType) => t === 'integer' || t === 'bigint' || t === 'decimal' || t === 'number';
/** Text operands of `-` or `*` are numeric text at run time; the result is a number. */
const numeric = (t: ColumnType): ColumnType => (isNumeric(t) ? t : 'number');
/** A decimal operand makes the arithmetic exact (expression-values.ts), so the result is a decimal. */
function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === 'decimal' || b === 'decimal') return 'decimal';
  if (a === 'number' || b === 'number') return 'number';
  if (a === 'bigint' || b === 'bigint') return 'bigint';
  return 'integer';
}

export function referencedColumns(node: Node, out = new Set<string>()): Set<string> {
  switch (node.kind) {
    case 'column':
      out.add(node.name);
      break;
    case 'neg':
    case 'plus':
    case 'not':
    case 'isnull':
      referencedColumns(node.arg, out);
      break;
    case 'binary':
      referencedColumns(node.left, out);
      referencedColumns(node.right, out);
      break;
    case 'in':
      referencedColumns(node.arg, out);
      for (const item of node.list) referencedColumns(item, out);
      break;
    case 'cond':
      referencedColumns(node.test, out);
      referencedColumns(node.whenTrue, out);
      referencedColumns(node.whenFalse, out);
      break;
    case 'call':
      for (const arg of node.args) referencedColumns(arg, out);
      break;
  }
  return out;
}
