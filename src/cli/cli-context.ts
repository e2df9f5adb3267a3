import { userInfo } from 'node:os';
import type { Actor } from '../audit/audited.js';
import type { Context } from '../context.js';
import { AppError, errorMessage } from '../core/errors.js';

/** The actor the audit trail records for changes made from the command line. */
export function cliActor(): Actor {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep 'unknown'.
  }
  return { name: `cli:${name}` };
}

/** Opens the store for one command, runs it, closes it, and turns errors into a message and exit code 1. */
export async function withContext(run: (ctx: Context) => Promise<void>): Promise<void> {
  let ctx: Context | undefined;
  try {
    // The services load when a command runs, so --help and argument errors load none of them.
    const [{ loadSettings }, { createContext }, { createLogger }] = await Promise.all([
      import('../config.js'),
      import('../context.js'),
      import('../core/logger.js'),
    ]);
    const settings = loadSettings();
    ctx = await createContext(settings, createLogger(process.env.INTEGRATOR_LOG_LEVEL ?? 'warn'));
    await run(ctx);
  } catch (err) {
    const prefix = err instanceof AppError ? `error (${err.code})` : 'error';
    process.stderr.write(`${prefix}: ${errorMessage(err)}\n`);
    if (err instanceof AppError && err.details) {
      for (const d of err.details) process.stderr.write(`  ${d.path}: ${d.message}\n`);
    }
    process.exitCode = 1;
  } finally {
    await ctx?.close();
  }
}

/**
 * Like withContext, for commands that inspect a store: when there is none where the settings point,
 * prints one line and exits with code 2 instead of creating an empty store.
 */
export async function withExistingStore(run: (ctx: Context) => Promise<void>): Promise<void> {
  let missing: string | undefined;
  try {
    const [{ loadSettings }, { missingStore }] = await Promise.all([
      import('../config.js'),
      import('../store/store-presence.js'),
    ]);
    missing = await missingStore(loadSettings());
  } catch (err) {
    process.stderr.write(`error: ${errorMessage(err)}\n`);
    process.exitCode = 1;
    return;
  }
  if (missing !== undefined) {
    process.stderr.write(`error: ${missing}\n`);
    process.exitCode = 2;
    return;
  }
  await withContext(run);
}

/** Reads a password from standard input (first line), for scripts that must not put it on the command line. */
export async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}
