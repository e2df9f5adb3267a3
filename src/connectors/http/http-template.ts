/**
 * `{name}` templates of HTTP requests: in a path each value is one URL-encoded segment part, in the
 * query it is a parameter value the URL API encodes, in a header it is text without line breaks, and
 * in a JSON body a whole-string placeholder keeps its value's type. Values are never spliced raw.
 */
import { AppError } from '../../core/errors.js';
import { textOf } from '../../formats/text.js';

const PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** A template's variables: undefined for a name that has none (null is a value: no value given). */
export type Lookup = (name: string) => unknown;

/** The variable names a template uses. */
export function templateNames(template: string): string[] {
  return [...template.matchAll(PARAM)].map((m) => m[1] ?? '');
}

function textFor(name: string, lookup: Lookup, where: string): string {
  const value = lookup(name);
  if (value === undefined || value === null) {
    throw new AppError('PARAMETER_INVALID', `'{${name}}' used in ${where} has no value`, {
      details: [{ path: `/params/${name}`, message: `no value for ${where}` }],
    });
  }
  return textOf(value);
}

/** A path with each value URL-encoded as part of one segment (so `/`, `?`, `#`, `&` cannot escape it). */
export function expandPath(template: string, lookup: Lookup, where: string): string {
  return template.replace(PARAM, (_m, name: string) => {
    const value = textFor(name, lookup, where);
    // The URL API resolves a `.` or `..` segment (encoded or not), which would leave the path.
    if (value === '.' || value === '..') {
      throw new AppError('PARAMETER_INVALID', `'{${name}}' used in ${where} may not be '${value}'`, {
        details: [{ path: `/params/${name}`, message: 'not a path segment value' }],
      });
    }
    return encodeURIComponent(value);
  });
}

/** Text (a query value before the URL API encodes it); undefined for a lone `{name}` without value. */
export function expandQueryValue(template: string, lookup: Lookup, where: string): string | undefined {
  const whole = WHOLE.exec(template);
  if (whole) {
    const value = lookup(whole[1] ?? '');
    if (value === null) return undefined;
  }
  return template.replace(PARAM, (_m, name: string) => textFor(name, lookup, where));
}

/** A header value; a value with a line break or NUL would start another header, so it is refused. */
export function expandHeader(template: string, lookup: Lookup, where: string): string {
  return template.replace(PARAM, (_m, name: string) => {
    const value = textFor(name, lookup, where);
    if (/[\r\n\0]/.test(value)) {
      throw new AppError('PARAMETER_INVALID', `'{${name}}' used in ${where} holds a line break`, {
        details: [{ path: `/params/${name}`, message: 'line breaks are not allowed in a header' }],
      });
    }
    return value;
  });
}

/**
 * A JSON body template: strings that are exactly `{name}` become the value itself (a number stays a
 * number, null stays null), other strings get the values' text; keys are left as written.
 */
export function expandJson(value: unknown, lookup: Lookup, where: string): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) {
      const v = lookup(whole[1] ?? '');
      if (v === undefined) textFor(whole[1] ?? '', lookup, where);
      return v;
    }
    return value.replace(PARAM, (_m, name: string) => textFor(name, lookup, where));
  }
  if (Array.isArray(value)) return value.map((v) => expandJson(v, lookup, where));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandJson(v, lookup, where);
    return out;
  }
  return value;
}

/**
 * The URL of a request: the base URL's path joined with the expanded path (a path never replaces the
 * base's own), then the query, each value encoded by the URL API.
 */
export function buildUrl(
  base: string,
  path: string | undefined,
  query: Record<string, string | number | boolean> | undefined,
  lookup: Lookup,
  where: string,
): URL {
  const expanded = expandPath(path ?? '', lookup, `${where}.path`);
  const root = base.endsWith('/') ? base.slice(0, -1) : base;
  const url = new URL(expanded === '' ? base : `${root}/${expanded.replace(/^\/+/, '')}`);
  for (const [name, template] of Object.entries(query ?? {})) {
    const value = expandQueryValue(String(template), lookup, `${where}.query.${name}`);
    if (value !== undefined) url.searchParams.append(name, value);
  }
  return url;
}
