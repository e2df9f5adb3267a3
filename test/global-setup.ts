/**
 * Brings dist/ up to date once before the tests, so the server and CLI processes they start from
 * bin/integrator.js (which builds what is stale on start) find nothing to build and do not race.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [resolve(import.meta.dirname, '../scripts/build.js')], { stdio: 'inherit' });
}
