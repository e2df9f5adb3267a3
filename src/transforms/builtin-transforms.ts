import { castTransform } from './cast.js';
import type { CompiledTransforms } from './compile-transforms.js';
import { dedupeTransform } from './dedupe.js';
import { defaultsTransform } from './defaults.js';
import { filterTransform } from './filter.js';
import { mapTransform } from './map.js';
import type { TransformDef } from './transform-def.js';
import { TransformRegistry } from './transform-registry.js';

/**
 * The transforms every server has. The composition root builds its TransformRegistry from this list
 * plus any extra transforms it is given; adding a built-in transform is one file and one line here.
 */
export const BUILTIN_TRANSFORMS = [
  mapTransform,
  filterTransform,
  castTransform,
  defaultsTransform,
  dedupeTransform,
] as const;

export type BuiltinTransformType = (typeof BUILTIN_TRANSFORMS)[number]['type'];

/** The built-in transforms alone, for code that runs outside a server (tests, benchmarks). */
export const builtinTransforms = new TransformRegistry(BUILTIN_TRANSFORMS);

/** Compiles built-in transforms; a server compiles through its context's registry instead. */
export function compileTransforms(defs: readonly TransformDef[], path: string): CompiledTransforms {
  return builtinTransforms.compile(defs, path);
}
