/**
 * Quoting of table and column names that come from flow definitions. Names are always quoted (so a
 * name can never close the quote and add SQL), after checks that give a clear error instead of a
 * confusing database message.
 */
import { AppError } from '../core/errors.js';

interface IdentRules {
  quote: string;
  maxLength: number;
  maxParts: number;
}

const PG: IdentRules = { quote: '"', maxLength: 63, maxParts: 3 };
const MYSQL: IdentRules = { quote: '`', maxLength: 64, maxParts: 2 };
const SQLITE: IdentRules = { quote: '"', maxLength: 256, maxParts: 2 };

function checkPart(part: string, whole: string, rules: IdentRules): void {
  if (part.length === 0) throw new AppError('BAD_REQUEST', `name '${whole}' has an empty part`);
  if (part.includes('\0')) throw new AppError('BAD_REQUEST', `name '${whole}' contains a NUL character`);
  if (Buffer.byteLength(part) > rules.maxLength) {
    throw new AppError('BAD_REQUEST', `name '${part}' is longer than ${rules.maxLength} bytes`);
  }
}

function quotePart(part: string, rules: IdentRules): string {
  return rules.quote + part.split(rules.quote).join(rules.quote + rules.quote) + rules.quote;
}

/** `schema.table` (or `table`) quoted part by part. */
function quoteQualified(name: string, rules: IdentRules): string {
  const parts = name.split('.');
  if (parts.length > rules.maxParts) {
    throw new AppError('BAD_REQUEST', `name '${name}' has more than ${rules.maxParts} dot-separated parts`);
  }
  for (const p of parts) checkPart(p, name, rules);
  return parts.map((p) => quotePart(p, rules)).join('.');
}

/** One identifier (a column); dots are part of the name. */
function quoteSingle(name: string, rules: IdentRules): string {
  checkPart(name, name, rules);
  return quotePart(name, rules);
}

export const quotePgIdent = (name: string): string => quoteQualified(name, PG);
export const quoteMysqlIdent = (name: string): string => quoteQualified(name, MYSQL);
export const quoteSqliteIdent = (name: string): string => quoteQualified(name, SQLITE);
export const quotePgColumn = (name: string): string => quoteSingle(name, PG);
export const quoteMysqlColumn = (name: string): string => quoteSingle(name, MYSQL);
export const quoteSqliteColumn = (name: string): string => quoteSingle(name, SQLITE);

/** Splits `schema.table` into its parts (schema undefined when unqualified), for catalog lookups. */
export function splitQualified(name: string): { schema: string | undefined; table: string } {
  const i = name.lastIndexOf('.');
  return i === -1
    ? { schema: undefined, table: name }
    : { schema: name.slice(0, i), table: name.slice(i + 1) };
}
