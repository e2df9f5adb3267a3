import { csvFormat } from './csv.js';
import { FormatRegistry, type FormatSpec } from './format-registry.js';
import { jsonFormat } from './json.js';
import { ndjsonFormat } from './ndjson.js';
import { xmlFormat } from './xml.js';

export { type BoundFormat, FormatRegistry, type FormatSpec } from './format-registry.js';

/**
 * The formats every server has. The composition root builds its FormatRegistry from this list plus any
 * extra formats it is given; adding a built-in format is one file and one line here.
 */
export const BUILTIN_FORMATS = [csvFormat, jsonFormat, ndjsonFormat, xmlFormat] as const;

export type BuiltinFormatType = (typeof BUILTIN_FORMATS)[number]['type'];

/** The built-in formats alone, for code that runs outside a server (format tests, benchmarks). */
export const builtinFormats = new FormatRegistry(BUILTIN_FORMATS);

export const FORMAT_TYPES: readonly string[] = builtinFormats.types();

/** Binds a built-in format; a server binds through its context's registry instead. */
export function bindFormat(spec: FormatSpec) {
  return builtinFormats.bind(spec);
}
