/**
 * `{name}` parameters in SQL become real bind parameters, never spliced text. This is the only place
 * that turns a flow's SQL into driver SQL, so injection safety is decided here.
 */
import { AppError } from '../core/errors.js';
import { scanCode } from './sql-lexer.js';

export { quoteMysqlIdent, quotePgIdent, quoteSqliteIdent } from './sql-ident.js';
export { splitStatements } from './sql-lexer.js';

const PLACEHOLDER = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/;

export interface BoundSql {
  text: string;
  values: unknown[];
}

/** PostgreSQL numbered placeholders. */
export const pgPlaceholder = (index: number): string => `$${index}`;
/** MySQL and SQLite positional placeholders. */
export const positionalPlaceholder = (): string => '?';

/**
 * Replaces each `{name}` outside literals, quoted identifiers and comments with `placeholder(index)`
 * (1-based) and collects the values in order. Numbered placeholders mean PostgreSQL, whose standard
 * strings take backslashes literally; positional ones mean MySQL-style backslash escapes. When the placeholder style is numbered (`$1`), a name
 * used twice reuses its number; when it is positional (`?`), the value is repeated.
 * Throws PARAMETER_INVALID naming the first parameter that has no value.
 */
export function bindNamed(
  sql: string,
  values: Record<string, unknown>,
  placeholder: (index: number) => string,
): BoundSql {
  const numbered = placeholder(1) !== placeholder(2);
  const out: string[] = [];
  const bound: unknown[] = [];
  const indexOf = new Map<string, number>();
  let copied = 0;
  scanCode(
    sql,
    (i) => {
      if (sql[i] !== '{') return undefined;
      const m = PLACEHOLDER.exec(sql.slice(i, i + 130));
      if (!m) return undefined;
      const name = m[1] ?? '';
      if (!Object.hasOwn(values, name) || values[name] === undefined) {
        throw new AppError(
          'PARAMETER_INVALID',
          `parameter '${name}' has no value: pass it in the run request or declare a default for it`,
          { details: [{ path: `/params/${name}`, message: 'missing value' }] },
        );
      }
      let index = numbered ? indexOf.get(name) : undefined;
      if (index === undefined) {
        bound.push(values[name]);
        index = bound.length;
        if (numbered) indexOf.set(name, index);
      }
      out.push(sql.slice(copied, i), placeholder(index));
      copied = i + m[0].length;
      return copied;
    },
    !numbered,
  );
  out.push(sql.slice(copied));
  return { text: out.join(''), values: bound };
}
