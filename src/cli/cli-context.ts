import { userInfo } from 'node:os';
import type { Actor } from '../audit/audited.js';
import type { Settings } from '../config.js';
import type { Context } from '../context.js';
import { AppError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { StoreServices } from '../store-services.js';

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

/** Prints a failed command's error and sets exit code 1. */
function report(err: unknown): void {
  const prefix = err instanceof AppError ? `error (${err.code})` : 'error';
  process.stderr.write(`${prefix}: ${errorMessage(err)}\n`);
  if (err instanceof AppError && err.details) {
    for (const d of err.details) process.stderr.write(`  ${d.path}: ${d.message}\n`);
  }
  process.exitCode = 1;
}

/**
 * Builds what a command needs, runs it, closes what was built, and turns errors into a message and exit
 * code 1. The services load when a command runs, so --help and argument errors load none of them.
 */
async function withOpened<T>(
  open: (settings: Settings, logger: Logger) => Promise<T>,
  close: (opened: T) => Promise<void>,
  run: (opened: T) => Promise<void>,
): Promise<void> {
  let opened: T | undefined;
  try {
    const [{ loadSettings }, { createLogger }] = await Promise.all([
      import('../config.js'),
      import('../core/logger.js'),
    ]);
    opened = await open(loadSettings(), createLogger(process.env.INTEGRATOR_LOG_LEVEL ?? 'warn'));
    await run(opened);
  } catch (err) {
    report(err);
  } finally {
    if (opened !== undefined) await close(opened);
  }
}

/** Runs a command with the whole context (flows, runs, connections …). */
export function withContext(run: (ctx: Context) => Promise<void>): Promise<void> {
  return withOpened(
    async (settings, logger) => (await import('../context.js')).createContext(settings, logger),
    (ctx) => ctx.close(),
    run,
  );
}

/**
 * Runs a command with the store's own services (users, API keys, the audit trail), for commands that
 * need no more: they skip loading and building flows, runs, listeners and connectors.
 */
export function withStoreServices(run: (s: StoreServices) => Promise<void>): Promise<void> {
  return withOpened(
    async (settings, logger) => (await import('../store-services.js')).openStoreServices(settings, logger),
    async (s) => (await import('../store-services.js')).closeStoreServices(s),
    run,
  );
}

/**
 * Like withStoreServices, for commands that inspect a store: when there is none where the settings
 * point, prints one line and exits with code 2 instead of creating an empty store.
 */
export async function withExistingStore(run: (s: StoreServices) => Promise<void>): Promise<void> {
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
  await withStoreServices(run);
}

/** Reads a password from standard input (first line), for scripts that must not put it on the command line. */
export async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}
