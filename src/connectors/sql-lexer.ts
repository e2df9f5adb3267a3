/**
 * A small SQL scanner shared by parameter binding and statement splitting. It only needs to know
 * where "code" is: text inside string literals, quoted identifiers, dollar-quoted bodies and comments
 * must never be mistaken for a `{name}` placeholder or a `;` statement end.
 */

/** Calls `onCode(index)` for every character that is SQL code (outside literals and comments). */
export function scanCode(
  sql: string,
  onCode: (index: number) => number | undefined,
  backslashEscapes = true,
): void {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      // PostgreSQL standard strings treat backslash literally, except in E'' strings.
      const prev = sql[i - 1];
      i = skipQuoted(sql, i, c, c === "'" && (backslashEscapes || prev === 'E' || prev === 'e'));
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '#' && isMysqlHashComment(sql, i)) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
      } else {
        i = onCode(i) ?? i + 1;
      }
    } else {
      i = onCode(i) ?? i + 1;
    }
  }
}

/** A quote closes at its twin; a doubled twin is an escaped quote; MySQL, SQLite-compatible input and
 * PostgreSQL E'' strings also escape with a backslash. */
function skipQuoted(sql: string, start: number, quote: string, backslash: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (c === '\\' && backslash) {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

/** `#` starts a comment in MySQL, but is an operator in PostgreSQL (`#>`, `#-`); only treat it as a
 * comment at the start of a line or after whitespace and when not followed by `>` or `-`. */
function isMysqlHashComment(sql: string, i: number): boolean {
  const prev = i === 0 ? '\n' : sql[i - 1];
  const next = sql[i + 1];
  return (prev === '\n' || prev === ' ' || prev === '\t') && next !== '>' && next !== '-';
}

/** Splits a script into statements at `;` outside literals and comments; empty statements are dropped. */
export function splitStatements(sql: string, backslashEscapes = true): string[] {
  const out: string[] = [];
  let start = 0;
  scanCode(
    sql,
    (i) => {
      if (sql[i] === ';') {
        out.push(sql.slice(start, i));
        start = i + 1;
      }
      return undefined;
    },
    backslashEscapes,
  );
  out.push(sql.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0 && !isOnlyComments(s));
}

function isOnlyComments(stmt: string): boolean {
  let code = false;
  scanCode(stmt, (i) => {
    if (!/\s/.test(stmt[i] ?? '')) code = true;
    return undefined;
  });
  return !code;
}
