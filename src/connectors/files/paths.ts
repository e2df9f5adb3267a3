import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../core/errors.js';

/**
 * Every file path a flow names is relative to the connection's folder and must stay inside it. Checked
 * twice: lexically here (absolute paths, `..`, NUL), and on disk with realpath (symlinks), because a
 * lexically clean path can still lead out through a symlink.
 */
export function cleanRelativePath(p: string): string {
  if (p.includes('\0'))
    throw new AppError('BAD_REQUEST', `File path '${p.replace(/\0/g, '\\0')}' contains a NUL byte`);
  if (p.trim() === '') throw new AppError('BAD_REQUEST', 'File path is empty');
  if (path.isAbsolute(p) || path.win32.isAbsolute(p)) {
    throw new AppError(
      'FORBIDDEN',
      `File path '${p}' is absolute; use a path relative to the connection's folder`,
    );
  }
  const segments = p.split(/[\\/]+/);
  if (segments.includes('..')) {
    throw new AppError(
      'FORBIDDEN',
      `File path '${p}' contains '..'; paths must stay inside the connection's folder`,
    );
  }
  const clean = segments.filter((s) => s !== '' && s !== '.').join('/');
  if (clean === '') throw new AppError('BAD_REQUEST', `File path '${p}' names no file`);
  return clean;
}

function inside(rootReal: string, real: string): boolean {
  return real === rootReal || real.startsWith(rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep);
}

/**
 * Resolves a path through its symlinks; a missing path rejects with an error whose `code` is 'ENOENT'.
 * The local disk's realpath, or the SFTP server's.
 */
export type RealPath = (p: string) => Promise<string>;

/** Throws FORBIDDEN when `full` (which must exist) resolves, through symlinks, outside `rootReal`. */
export async function confine(
  rootReal: string,
  full: string,
  shown: string,
  resolveReal: RealPath = realpath,
): Promise<string> {
  const real = await resolveReal(full);
  if (!inside(rootReal, real)) {
    throw new AppError(
      'FORBIDDEN',
      `File path '${shown}' resolves outside the connection's folder (symlink)`,
    );
  }
  return real;
}

/** Like confine, for a path that may not exist yet: checks its deepest existing ancestor. */
export async function confineNew(
  rootReal: string,
  full: string,
  shown: string,
  resolveReal: RealPath = realpath,
): Promise<void> {
  let probe = full;
  for (;;) {
    try {
      await confine(rootReal, probe, shown, resolveReal);
      return;
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
      const parent = path.dirname(probe);
      if (parent === probe) throw err;
      probe = parent;
    }
  }
}
