import { AppError } from '../core/errors.js';

/** One segment of a listener path: literal text or a `{name}` parameter. */
type Segment = { literal: string } | { param: string };

export interface PathPattern {
  source: string;
  segments: Segment[];
  /** Literal segments count more than parameters: `patients/new` beats `patients/{id}`. */
  specificity: number;
  /** The pattern with parameter names erased: two listeners with the same shape would collide. */
  shape: string;
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const LITERAL = /^[A-Za-z0-9._~!$&'()*+,;=:@-]+$/;

/** Parses `hl7/patient` or `patients/{patientid}`; throws VALIDATION_FAILED naming the bad segment. */
export function parsePathPattern(source: string, field = '/path'): PathPattern {
  const trimmed = source.replace(/^\/+|\/+$/g, '');
  const invalid = (message: string) =>
    new AppError('VALIDATION_FAILED', `listener ${field}: ${message}`, {
      details: [{ path: field, message }],
    });
  if (trimmed === '') throw invalid('must not be empty');
  const names = new Set<string>();
  const segments = trimmed.split('/').map((part): Segment => {
    const m = PARAM.exec(part);
    if (m?.[1]) {
      if (names.has(m[1])) throw invalid(`parameter {${m[1]}} appears twice`);
      names.add(m[1]);
      return { param: m[1] };
    }
    if (part === '' || part === '.' || part === '..' || !LITERAL.test(part))
      throw invalid(`segment '${part}' is not a plain path segment or {parameter}`);
    return { literal: part };
  });
  return {
    source: trimmed,
    segments,
    specificity: segments.reduce((n, s, i) => n + ('literal' in s ? 2 ** (segments.length - i) : 0), 0),
    shape: segments.map((s) => ('literal' in s ? s.literal : '{}')).join('/'),
  };
}

/** Matches already-split, decoded path parts; returns the parameters or undefined. */
export function matchPath(
  pattern: PathPattern,
  parts: readonly string[],
): Record<string, string> | undefined {
  if (parts.length !== pattern.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = pattern.segments[i]!;
    const part = parts[i]!;
    if ('literal' in seg) {
      if (seg.literal !== part) return undefined;
    } else {
      if (part === '') return undefined;
      params[seg.param] = part;
    }
  }
  return params;
}
