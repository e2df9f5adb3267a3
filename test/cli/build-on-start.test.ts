/**
 * bin/integrator.js in a source checkout never runs a stale dist/: a source newer than its output is
 * compiled first, an output whose source is gone is removed, and a source that does not compile stops
 * the start with the reason. Run in a copy of the launcher and build script with a one-file program.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'integrator-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

for (const dir of ['bin', 'scripts', 'src/cli']) mkdirSync(join(root, dir), { recursive: true });
for (const file of ['bin/integrator.js', 'scripts/build.js', 'tsconfig.json', 'tsconfig.build.json'])
  copyFileSync(join(repo, file), join(root, file));
writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));

let clock = Date.now() / 1000;
/** Writes a source file with a modification time later than anything built before it. */
function writeSource(path: string, text: string): void {
  writeFileSync(join(root, path), text);
  clock += 10;
  utimesSync(join(root, path), clock, clock);
}
const mainSource = (word: string) =>
  `export async function main(argv: string[]): Promise<void> {\n  const answer: string = '${word}';\n  process.stdout.write(\`\${answer} \${argv.length}\\n\`);\n}\n`;

async function launch(): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'bin/integrator.js')]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    if (err instanceof Error && 'code' in err && typeof err.code === 'number' && 'stderr' in err)
      return { code: err.code, stdout: '', stderr: String(err.stderr) };
    throw err;
  }
}

describe('build on start', { timeout: 120_000 }, () => {
  it('builds a missing dist/, then rebuilds only when a source is newer', async () => {
    writeSource('src/cli/main.ts', mainSource('first'));
    expect((await launch()).stdout).toBe('first 2\n');
    expect(existsSync(join(root, 'dist/cli/main.js'))).toBe(true);
    writeSource('src/cli/main.ts', mainSource('second'));
    expect((await launch()).stdout).toBe('second 2\n');
  });

  it('removes the output of a deleted source', async () => {
    writeSource('src/cli/extra.ts', 'export const extra = 1;\n');
    await launch();
    expect(existsSync(join(root, 'dist/cli/extra.js'))).toBe(true);
    rmSync(join(root, 'src/cli/extra.ts'));
    await launch();
    expect(existsSync(join(root, 'dist/cli/extra.js'))).toBe(false);
    expect(existsSync(join(root, 'dist/cli/extra.js.map'))).toBe(false);
  });

  it('refuses to start on a source that does not compile, naming the file, and keeps trying', async () => {
    writeSource('src/cli/main.ts', 'export async function main( {\n');
    const failed = await launch();
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/src\/cli\/main\.ts:\d+:\d+: /);
    writeSource('src/cli/main.ts', mainSource('third'));
    expect((await launch()).stdout).toBe('third 2\n');
  });

  it('builds the web console when a file of console/ is newer than dist/console, and only then', async () => {
    mkdirSync(join(root, 'console'), { recursive: true });
    // Written in the past, so the build that follows is newer than every file of console/.
    const writePast = (path: string, text: string) => {
      writeFileSync(join(root, path), text);
      const past = Date.now() / 1000 - 100;
      utimesSync(join(root, path), past, past);
    };
    writePast(
      'console/index.html',
      '<!doctype html><html><body><script type="module" src="/main.ts"></script></body></html>\n',
    );
    writePast('console/main.ts', "document.body.append('first');\n");
    expect((await launch()).code).toBe(0);
    const index = join(root, 'dist/console/index.html');
    expect(readFileSync(index, 'utf8')).toMatch(/\/assets\/index-[\w-]+\.js/);
    const built = statSync(index).mtimeMs;
    await launch();
    expect(statSync(index).mtimeMs).toBe(built);
    // A production build even when the caller's NODE_ENV says otherwise (vitest sets `test`).
    writeSource('console/main.ts', "document.body.append('second', process.env.NODE_ENV);\n");
    await launch();
    const script = /src="\/(assets\/[^"]+)"/.exec(readFileSync(index, 'utf8'))?.[1] ?? '';
    expect(readFileSync(join(root, 'dist/console', script), 'utf8')).toContain('second');
    expect(readFileSync(join(root, 'dist/console', script), 'utf8')).toContain('"production"');
    // The server's own outputs are not taken for orphans of src/.
    expect(existsSync(join(root, 'dist/cli/main.js'))).toBe(true);
    writeSource('console/main.ts', 'import { nothing } from "./missing";\nnothing();\n');
    const failed = await launch();
    expect(failed.code).toBe(2);
    expect(failed.stderr).toMatch(/cannot build the console/);
    // The last good build stays in place.
    expect(readFileSync(join(root, 'dist/console', script), 'utf8')).toContain('second');
  });
});
