import { lstatSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { AppError, errorMessage } from '../core/errors.js';

/**
 * Which local paths connections may use. The one place files and SQLite connectors (and any connector
 * that opens local files) ask, at save time and on every open, list and write:
 * - never the data directory's own files (the metadata store and its -wal/-shm, `secret.key`, anything
 *   else the server keeps there), even when a file root is the data directory or contains it; only the
 *   file roots inside the data directory (the default `files`) are open;
 * - otherwise only paths inside INTEGRATOR_FILE_ROOTS, unless an admin saved the connection (see
 *   `forConnection`).
 * Paths are judged by their real path, symlinks resolved; a path not created yet by the real path of its
 * deepest existing ancestor, so a symlink placed inside a root later that points out is refused at use.
 */
export class FileRoots {
  private constructor(
    /** Real paths of the roots. */
    readonly roots: readonly string[],
    /** Real path of the data directory. */
    readonly dataDir: string,
    /** Roots strictly inside the data directory: the only parts of it connections may use. */
    private readonly openInData: readonly string[],
  ) {}

  /**
   * Resolves the roots at start-up: `files` in the data directory is created (mode 0700) when it is one
   * of them; every other root must be an existing folder (INVALID_SETTING naming it otherwise).
   */
  static open(settings: { dataDir: string; fileRoots: readonly string[] }): FileRoots {
    // With a PostgreSQL store and INTEGRATOR_SECRET nothing else may have created the data directory yet.
    mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
    const dataDir = realpathSync(settings.dataDir);
    const defaultRoot = path.join(settings.dataDir, 'files');
    const roots: string[] = [];
    for (const root of settings.fileRoots) {
      if (root === defaultRoot) mkdirSync(root, { recursive: true, mode: 0o700 });
      let real: string;
      try {
        real = realpathSync(root);
        if (!statSync(real).isDirectory()) throw new Error('not a folder');
      } catch (err) {
        throw new AppError(
          'INVALID_SETTING',
          `INTEGRATOR_FILE_ROOTS: '${root}' must be an existing folder (${errorMessage(err)})`,
        );
      }
      roots.push(real);
    }
    return new FileRoots(
      roots,
      dataDir,
      roots.filter((r) => r !== dataDir && inside(dataDir, r)),
    );
  }

  /**
   * Why a resolved real path may not be used, or undefined. `anywhere`: the connection was saved by an
   * admin, so the roots do not bound it; the data directory's own files still do.
   */
  refusal(real: string, anywhere: boolean): string | undefined {
    if (inside(this.dataDir, real) && !this.openInData.some((r) => inside(r, real))) {
      return "is one of the data directory's own files, which no connection may use";
    }
    if (!anywhere && !this.roots.some((r) => inside(r, real))) {
      return `is outside the file roots (INTEGRATOR_FILE_ROOTS: ${this.roots.join(', ')})`;
    }
    return undefined;
  }

  /** The checker one connection uses; `anywhere` as in `refusal`. */
  forConnection(anywhere: boolean): FileAccess {
    return {
      require: async (full, shown) => {
        const real = await realOf(full, shown);
        const why = this.refusal(real, anywhere);
        if (why) throw pathNotAllowed(shown, full, real, why);
        return real;
      },
      requireSync: (full, shown) => {
        const real = realOfSync(full, shown);
        const why = this.refusal(real, anywhere);
        if (why) throw pathNotAllowed(shown, full, real, why);
        return real;
      },
      allows: async (full) => {
        try {
          return this.refusal(await realOf(full, full), anywhere) === undefined;
        } catch {
          return false;
        }
      },
    };
  }

  /** The problem with a path a connection is being saved with, for the given kind of saver. */
  async problem(full: string, anywhere: boolean): Promise<string | undefined> {
    try {
      const real = await realOf(full, full);
      const why = this.refusal(real, anywhere);
      return why ? describe(full, real, why) : undefined;
    } catch (err) {
      return errorMessage(err);
    }
  }
}

/** What a connector is given to check the local paths it opens (see FileRoots). */
export interface FileAccess {
  /**
   * The real path of `full` (symlinks resolved) when the connection may use it; PATH_NOT_ALLOWED naming
   * `shown` otherwise. Call it right before every open, list and write.
   */
  require(full: string, shown: string): Promise<string>;
  /**
   * `require` without leaving the thread, for a connector whose driver opens files synchronously anyway
   * (SQLite): a few microseconds instead of a trip through the thread pool per call.
   */
  requireSync(full: string, shown: string): string;
  /** Whether the connection may use `full`: listings and wildcards leave out what it may not. */
  allows(full: string): Promise<boolean>;
}

export function inside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

function describe(full: string, real: string, why: string): string {
  return real === full ? `'${full}' ${why}` : `'${full}' (which resolves to '${real}') ${why}`;
}

function pathNotAllowed(shown: string, full: string, real: string, why: string): AppError {
  const where = shown === full ? describe(full, real, why) : `'${shown}': ${describe(full, real, why)}`;
  return new AppError('PATH_NOT_ALLOWED', `Path ${where}`);
}

function isMissing(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'ENOENT';
}

function danglingLink(shown: string, probe: string): AppError {
  return new AppError(
    'PATH_NOT_ALLOWED',
    `Path '${shown}' goes through a symlink whose target does not exist ('${probe}')`,
  );
}

/** realOf, synchronously. */
function realOfSync(full: string, shown: string): string {
  const absolute = path.resolve(full);
  let probe = absolute;
  for (;;) {
    try {
      const real = realpathSync(probe);
      return probe === absolute ? real : path.join(real, path.relative(probe, absolute));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    if (lstatSync(probe, { throwIfNoEntry: false })?.isSymbolicLink()) throw danglingLink(shown, probe);
    const parent = path.dirname(probe);
    if (parent === probe) return absolute;
    probe = parent;
  }
}

/**
 * The real path of `full`: its own when it exists, otherwise its deepest existing ancestor's real path
 * joined with the rest. A symlink whose target is missing is refused: writing through it would create
 * the target wherever it points.
 */
async function realOf(full: string, shown: string): Promise<string> {
  const absolute = path.resolve(full);
  let probe = absolute;
  for (;;) {
    try {
      const real = await realpath(probe);
      return probe === absolute ? real : path.join(real, path.relative(probe, absolute));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    const link = await lstat(probe).catch(() => undefined);
    if (link?.isSymbolicLink()) throw danglingLink(shown, probe);
    const parent = path.dirname(probe);
    if (parent === probe) return absolute;
    probe = parent;
  }
}
