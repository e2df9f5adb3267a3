#!/usr/bin/env node
// Runs the compiled CLI in dist/. In a source checkout (src/ next to it) dist/ is first brought up to
// date with the sources, so a stale build never runs; an installed package ships dist/ only.
import { existsSync } from 'node:fs';

if (
  existsSync(new URL('../src/', import.meta.url)) &&
  existsSync(new URL('../scripts/build.js', import.meta.url))
) {
  const { build } = await import('../scripts/build.js');
  try {
    build();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
}
const { main } = await import('../dist/cli/main.js');
await main(process.argv);
