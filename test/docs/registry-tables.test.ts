/**
 * The docs' tables of formats, transforms, listener auth strategies and connection types list exactly
 * what the registries hold, so a new entry cannot ship undocumented nor a removed one stay in the docs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExtensions } from '../../src/extensions.js';

const repo = resolve(import.meta.dirname, '../..');
const extensions = createExtensions();

/** The rows of the first Markdown table whose header starts with `| <first> |`, as cells. */
function table(file: string, first: string): string[][] {
  const lines = readFileSync(resolve(repo, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (start < 0) throw new Error(`${file}: no table starting with | ${first} |`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** The names in backticks in a cell: "`mysql` (alias `mariadb`)" gives mysql and mariadb. */
function codes(cell: string | undefined): string[] {
  return [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

describe('docs tables follow the registries', () => {
  it('docs/formats.md lists every format with its media types and extensions', () => {
    const rows = table('docs/formats.md', 'Format');
    expect(rows.map((r) => codes(r[0])[0])).toEqual(extensions.formats.types());
    for (const row of rows) {
      const format = extensions.formats.get(codes(row[0])[0]!);
      expect(
        codes(row[1]).filter((c) => !c.startsWith('+')),
        `${format.type} media types`,
      ).toEqual([...format.mediaTypes]);
      const suffixes = [...(row[1] ?? '').matchAll(/any `(\+\w+)` type/g)].map((m) => m[1]);
      expect(suffixes, `${format.type} suffixes`).toEqual([...(format.mediaTypeSuffixes ?? [])]);
      expect(codes(row[2]), `${format.type} extensions`).toEqual(format.extensions.map((e) => `.${e}`));
    }
  });

  it('docs/transforms.md lists every transform, and has a section for each', () => {
    const names = extensions.transforms.types();
    expect(table('docs/transforms.md', 'Transform').map((r) => codes(r[0])[0])).toEqual(names);
    const text = readFileSync(resolve(repo, 'docs/transforms.md'), 'utf8');
    for (const name of names) expect(text).toContain(`\n## ${name}\n`);
  });

  it('docs/listeners.md lists every listener auth strategy', () => {
    expect(table('docs/listeners.md', 'Auth').map((r) => codes(r[0])[0])).toEqual(
      extensions.listenerAuth.names(),
    );
  });

  it('docs/connections.md lists every connection type and alias', () => {
    const rows = table('docs/connections.md', 'Type');
    expect(rows.flatMap((r) => codes(r[0])).sort()).toEqual(extensions.connectors.names().sort());
  });
});
