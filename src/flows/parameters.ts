import { AppError } from '../core/errors.js';
import type { RawParams } from './engine-types.js';
import type { ParameterDef, ParameterType } from './flow-schema.js';

function invalid(name: string, message: string): AppError {
  return new AppError('PARAMETER_INVALID', `parameter '${name}' ${message}`, {
    details: [{ path: `/params/${name}`, message }],
  });
}

const BOOLEAN_WORDS: Record<string, boolean> = {
  true: true,
  false: false,
  '1': true,
  '0': false,
  yes: true,
  no: false,
};

function convert(
  name: string,
  type: ParameterType,
  value: string | number | boolean,
): string | number | boolean {
  const text = String(value).trim();
  switch (type) {
    case 'string':
      return String(value);
    case 'integer': {
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      if (!/^[-+]?\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
        throw invalid(name, `must be an integer, got '${String(value)}'`);
      }
      return Number(text);
    }
    case 'number': {
      const n = typeof value === 'number' ? value : Number(text);
      if (text === '' || !Number.isFinite(n)) throw invalid(name, `must be a number, got '${String(value)}'`);
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const b = BOOLEAN_WORDS[text.toLowerCase()];
      if (b === undefined) throw invalid(name, `must be true or false, got '${String(value)}'`);
      return b;
    }
    case 'date': {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
      const d = m ? new Date(`${text}T00:00:00Z`) : undefined;
      if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text) {
        throw invalid(name, `must be a date YYYY-MM-DD, got '${String(value)}'`);
      }
      return text;
    }
  }
}

/**
 * Turns raw values (query strings, schedule settings) into the typed values a run binds. Declared
 * parameters are checked and converted, and fall back to their defaults; a missing required one fails
 * with a message naming it. Undeclared values pass through as given, to be bound as text.
 */
export function resolveParameters(
  declared: Record<string, ParameterDef> | undefined,
  raw: RawParams,
): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!declared || !Object.hasOwn(declared, k)) out[k] = v;
  }
  for (const [name, def] of Object.entries(declared ?? {})) {
    const given = Object.hasOwn(raw, name) ? raw[name] : undefined;
    const value = given === undefined || given === '' ? def.default : given;
    if (value === undefined || value === null) {
      const required = def.required ?? def.default === undefined;
      if (required) throw invalid(name, `is required (${def.type}) and was not given`);
      out[name] = null;
      continue;
    }
    out[name] = convert(name, def.type, value);
  }
  return out;
}

const IDENT_PART = /^[A-Za-z_][A-Za-z0-9_$]*$/;
const PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
/** The longest file name (one path segment) Linux, macOS and Windows file systems take, in bytes. */
const NAME_MAX = 255;

/**
 * Expands `{name}` in a table or file name. Values are checked first: a table name part must be a plain
 * identifier, and a file name part must not contain a path separator or `..`. (SQL text never goes
 * through here: in SQL, parameters are bound.)
 */
export function expandName(
  template: string,
  params: Record<string, unknown>,
  kind: 'table' | 'file',
  path: string,
): string {
  const expanded = template.replace(PARAM, (_m, name: string) => {
    if (!Object.hasOwn(params, name) || params[name] === undefined || params[name] === null) {
      throw new AppError('PARAMETER_INVALID', `parameter '${name}' used in ${path} has no value`, {
        details: [{ path: `/params/${name}`, message: 'missing value' }],
      });
    }
    const value = String(params[name]);
    const ok =
      kind === 'table'
        ? IDENT_PART.test(value)
        : value !== '' && !/[/\\\0]/.test(value) && value !== '.' && value !== '..' && !value.includes('..');
    if (!ok) {
      throw new AppError(
        'PARAMETER_INVALID',
        `parameter '${name}' is not allowed in a ${kind} name: '${value}'`,
        {
          details: [{ path: `/params/${name}`, message: `not a valid ${kind} name part` }],
        },
      );
    }
    return value;
  });
  if (kind === 'file' && expanded !== template) {
    // A name part longer than the file system takes (255 bytes) came from a caller's value: say which.
    const long = expanded.split(/[\\/]/).find((part) => Buffer.byteLength(part) > NAME_MAX);
    if (long !== undefined) {
      const names = [...template.matchAll(PARAM)].map((m) => m[1]);
      throw new AppError(
        'PARAMETER_INVALID',
        `parameter '${names.join("', '")}' makes the file name in ${path} longer than ${NAME_MAX} bytes`,
        { details: names.map((name) => ({ path: `/params/${name}`, message: 'file name too long' })) },
      );
    }
  }
  return expanded;
}

/** True when `template` takes part of its value from parameters. */
export function usesParameters(template: string): boolean {
  return new RegExp(PARAM.source).test(template);
}
