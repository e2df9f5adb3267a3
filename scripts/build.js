/**
 * Builds what `npm start` and `npm pack` need in dist/: the server (src/ to dist/) and the web console
 * (console/ to dist/console, by Vite).
 *
 * The server is compiled one file at a time (TypeScript's transpiler: no type check, which is
 * `npm run typecheck`'s job), and only the files whose source is newer than their output, so a source
 * checkout can bring dist/ up to date on every start at the cost of a few hundred stat calls.
 *   node scripts/build.js           build what is stale
 *   node scripts/build.js --clean   rebuild everything from an empty dist/ (what `npm pack` ships)
 * Every output file is written to a temporary name and renamed into place, so processes building at
 * the same moment (parallel tests) and a server importing a module while another process builds never
 * see half a file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(root, 'src');
const outDir = join(root, 'dist');
const buildConfig = join(root, 'tsconfig.build.json');
// A changed compiler option makes every output stale.
const configFiles = [join(root, 'tsconfig.json'), buildConfig];

/** Whether a path under src/ is compiled (tests and declaration files are not). */
const compiled = (name) => name.endsWith('.ts') && !name.endsWith('.d.ts') && !name.endsWith('.test.ts');

function walk(dir, keep, found = []) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, keep, found);
    else if (keep(entry.name)) found.push(full);
  }
  return found;
}

const consoleDir = join(root, 'console');
const consoleOut = join(outDir, 'console');

const outputOf = (source) => join(outDir, relative(srcDir, source)).replace(/\.ts$/, '.js');
const mtime = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;

/** What a build would do: sources to compile, and outputs whose source is gone. */
export function plan() {
  const configTime = Math.max(...configFiles.map((f) => mtime(f) ?? 0));
  const sources = walk(srcDir, compiled);
  const stale = sources.filter((s) => {
    const built = mtime(outputOf(s));
    return built === undefined || built < Math.max(mtime(s) ?? 0, configTime);
  });
  const expected = new Set(sources.map(outputOf));
  const orphans = existsSync(outDir)
    ? walk(outDir, (n) => n.endsWith('.js') || n.endsWith('.js.map')).filter(
        (f) => !f.startsWith(consoleOut + sep) && !f.startsWith(join(outDir, '.console-')) && !expected.has(f.replace(/\.map$/, '')),
      )
    : [];
  return { stale, orphans };
}

function writeAtomically(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

function loadTypescript() {
  try {
    return createRequire(import.meta.url)('typescript');
  } catch {
    return undefined;
  }
}

/**
 * Compiles the stale sources and removes orphaned outputs. Returns the number of files compiled;
 * throws an Error whose message says what to do when the sources cannot be compiled.
 */
export function build({ clean = false } = {}) {
  if (clean) rmSync(outDir, { recursive: true, force: true });
  return buildServer() + buildConsole();
}

/** Whether the built console is older than any file of console/ (or missing). No console/: never. */
export function consoleStale() {
  if (!existsSync(join(consoleDir, 'index.html'))) return false;
  const built = mtime(join(consoleOut, 'index.html'));
  if (built === undefined) return true;
  const sources = walk(consoleDir, () => true).filter((f) => !f.includes(`${sep}node_modules${sep}`));
  return sources.some((f) => (mtime(f) ?? 0) > built);
}

/**
 * Builds the console with Vite into a temporary folder and swaps it into dist/console, so a server
 * serving the old build never reads half of the new one. Returns 1 when it built, 0 when up to date.
 */
export function buildConsole() {
  if (!consoleStale()) return 0;
  let viteBin;
  try {
    viteBin = join(dirname(createRequire(import.meta.url).resolve('vite/package.json')), 'bin', 'vite.js');
  } catch {
    throw new Error(
      'dist/console is older than console/ and Vite is not installed to rebuild it: run `npm ci` (with dev dependencies)',
    );
  }
  const tmp = join(outDir, `.console-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  try {
    execFileSync(process.execPath, [viteBin, 'build', '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'], {
      cwd: consoleDir,
      // What the server serves is a production build, whatever NODE_ENV the caller has (vitest sets it
      // to `test`, which would bundle React's development build).
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const out = err && typeof err === 'object' && 'stderr' in err ? String(err.stderr) : String(err);
    throw new Error(`cannot build the console (console/):\n${out}`);
  }
  const old = join(outDir, `.console-old-${process.pid}`);
  if (existsSync(consoleOut)) renameSync(consoleOut, old);
  renameSync(tmp, consoleOut);
  rmSync(old, { recursive: true, force: true });
  return 1;
}

function buildServer() {
  const { stale, orphans } = plan();
  for (const f of orphans) rmSync(f, { force: true });
  if (stale.length === 0) return 0;
  const ts = loadTypescript();
  if (!ts) {
    throw new Error(
      'dist/ is older than src/ and TypeScript is not installed to rebuild it: run `npm ci` (with dev dependencies)',
    );
  }
  const parsed = ts.getParsedCommandLineOfConfigFile(buildConfig, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} });
  if (!parsed) throw new Error(`cannot read ${relative(root, buildConfig)}`);
  // package.json says "type": "module", which a file-by-file transpile cannot see: every output is ESM.
  const compilerOptions = {
    ...parsed.options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const failures = [];
  for (const source of stale) {
    const out = outputOf(source);
    const result = ts.transpileModule(readFileSync(source, 'utf8'), {
      compilerOptions,
      fileName: source,
      reportDiagnostics: true,
    });
    const diagnostics = result.diagnostics ?? [];
    for (const d of diagnostics) {
      const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const at = where ? `:${where.line + 1}:${where.character + 1}` : '';
      failures.push(`${relative(root, source)}${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
    // A file that did not compile keeps its old output's timestamp, so the next build tries it again.
    if (diagnostics.length > 0) continue;
    if (result.sourceMapText) {
      const map = JSON.parse(result.sourceMapText);
      map.file = basename(out);
      map.sources = [relative(dirname(out), source).split(sep).join('/')];
      writeAtomically(`${out}.map`, JSON.stringify(map));
    }
    writeAtomically(out, result.outputText);
  }
  if (failures.length > 0) throw new Error(`cannot compile src/:\n${failures.join('\n')}`);
  return stale.length;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const clean = process.argv.includes('--clean');
    if (clean) rmSync(outDir, { recursive: true, force: true });
    const n = buildServer();
    const c = buildConsole();
    process.stdout.write(`dist/: ${n} files compiled${c ? ', console built' : ''}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}
