/**
 * The server reaches formats and transforms only through the registries its composition root built, so
 * an extra entry given there works everywhere. The built-in-only shortcuts exist for tests and
 * benchmarks; a server file that used them would silently ignore a deployment's own entries.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const SHORTCUTS = /\b(builtinFormats|bindFormat|builtinTransforms|compileTransforms)\b/;
const DEFINED_IN = new Set([
  'formats/registry.ts',
  'transforms/builtin-transforms.ts',
  'transforms/index.ts',
]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('registry wiring', () => {
  it('no server file uses the built-in-only shortcuts', () => {
    const users = files(SRC)
      .map((f) => relative(SRC, f))
      .filter((f) => !DEFINED_IN.has(f) && SHORTCUTS.test(readFileSync(join(SRC, f), 'utf8')));
    expect(users).toEqual([]);
  });
});
