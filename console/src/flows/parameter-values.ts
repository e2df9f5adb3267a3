import type { ParameterDef } from '../api/types.js';

/**
 * Checks the text typed for a parameter the way the server will convert it (src/flows/parameters.ts),
 * so a wrong value is shown at its field before the run starts. Values stay text: an integer of any
 * size or a decimal passes through exactly, never through a JavaScript number.
 */
export function checkParameter(name: string, def: ParameterDef, text: string): string | undefined {
  const value = text.trim();
  if (value === '') {
    const required = def.required ?? (def.default === undefined || def.default === null);
    return required ? `${name} is required` : undefined;
  }
  switch (def.type) {
    case 'integer':
      return /^[-+]?\d+$/.test(value) ? undefined : `${name} must be a whole number`;
    case 'number':
      return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value) ? undefined : `${name} must be a number`;
    case 'boolean':
      return value === 'true' || value === 'false' ? undefined : `${name} must be true or false`;
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(value) ? undefined : `${name} must be a date (YYYY-MM-DD)`;
    default:
      return undefined;
  }
}

/** The query of the run request: the values given; an empty one is left out so its default applies. */
export function runQuery(values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v.trim() !== '') out[k] = v.trim();
  return out;
}
