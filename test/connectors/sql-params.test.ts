import { describe, expect, it } from 'vitest';
import {
  bindNamed,
  pgPlaceholder,
  positionalPlaceholder,
  quoteMysqlIdent,
  quotePgIdent,
  splitStatements,
} from '../../src/connectors/sql-params.js';

describe('bindNamed', () => {
  it('binds {name} as numbered placeholders, reusing a repeated name', () => {
    expect(
      bindNamed('select * from t where a = {a} and b = {b} or a = {a}', { a: 1, b: 'x' }, pgPlaceholder),
    ).toEqual({
      text: 'select * from t where a = $1 and b = $2 or a = $1',
      values: [1, 'x'],
    });
  });

  it('repeats values for positional placeholders', () => {
    expect(bindNamed('a = {a} or a = {a}', { a: 5 }, positionalPlaceholder)).toEqual({
      text: 'a = ? or a = ?',
      values: [5, 5],
    });
  });

  it('ignores braces in literals, quoted identifiers, dollar quotes and comments', () => {
    const sql = `select '{a}', "{a}", \`{a}\`, $$ {a} $$, E'\\' {a}' -- {a}
      /* {a} */ , {a}`;
    const r = bindNamed(sql, { a: 1 }, pgPlaceholder);
    expect(r.values).toEqual([1]);
    expect(r.text.endsWith(', $1')).toBe(true);
  });

  it('keeps injection attempts as values', () => {
    for (const v of ['2 or 1=1', '1; drop table role', "'", "' or '1'='1"]) {
      const r = bindNamed('select * from role where role = {roleid}', { roleid: v }, pgPlaceholder);
      expect(r).toEqual({ text: 'select * from role where role = $1', values: [v] });
    }
  });

  it('names a missing parameter', () => {
    expect(() => bindNamed('select {roleid}', {}, pgPlaceholder)).toThrow(/parameter 'roleid' has no value/);
    expect(() => bindNamed('select {roleid}', { roleid: undefined }, pgPlaceholder)).toThrow(/'roleid'/);
  });

  it('leaves non-identifier braces alone', () => {
    expect(bindNamed("select '{}'::json, {1}", {}, pgPlaceholder).text).toBe("select '{}'::json, {1}");
  });
});

describe('identifier quoting', () => {
  it('quotes schema-qualified names by doubling the quote', () => {
    expect(quotePgIdent('public.role')).toBe('"public"."role"');
    expect(quotePgIdent('we"ird')).toBe('"we""ird"');
    expect(quoteMysqlIdent('a`b')).toBe('`a``b`');
  });

  it('rejects empty, NUL and overly long names', () => {
    expect(() => quotePgIdent('')).toThrow(/empty/);
    expect(() => quotePgIdent('a.')).toThrow(/empty/);
    expect(() => quotePgIdent('a\0b')).toThrow(/NUL/);
    expect(() => quotePgIdent('x'.repeat(64))).toThrow(/longer/);
    expect(() => quotePgIdent('a.b.c.d')).toThrow(/parts/);
  });
});

describe('splitStatements', () => {
  it('splits on semicolons outside literals and comments', () => {
    expect(splitStatements("insert into t values ('a;b'); -- x; y\n update t set a = 1;;")).toEqual([
      "insert into t values ('a;b')",
      '-- x; y\n update t set a = 1',
    ]);
  });
});
