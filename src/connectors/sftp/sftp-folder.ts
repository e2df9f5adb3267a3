/**
 * The connection's folder on the server for one operation: a session of its own, the root resolved
 * through the server's realpath, and every file path confined to it as the files connector confines
 * local paths (no absolute paths, no `..`, no symlink leading out).
 */
import path from 'node:path';
import { AppError, errorMessage } from '../../core/errors.js';
import { hasWildcard, matchFiles } from '../files/glob.js';
import { cleanRelativePath, confine, confineNew } from '../files/paths.js';
import type { SftpConfig } from './sftp-config.js';
import { isMissing } from './sftp-errors.js';
import { SftpFileOps } from './sftp-file-ops.js';
import { openSftpSession, type SftpSession } from './sftp-session.js';

export interface FolderFile {
  full: string;
  shown: string;
}

export class SftpFolder {
  private constructor(
    private readonly session: SftpSession,
    readonly ops: SftpFileOps,
    readonly rootReal: string,
    private readonly rootShown: string,
  ) {}

  /**
   * Connects and resolves the root. `create` makes a missing root folder (a destination's, as the files
   * connector does); otherwise a missing root is CONNECTION_FAILED.
   */
  static async open(config: SftpConfig, create: boolean, signal?: AbortSignal): Promise<SftpFolder> {
    const session = await openSftpSession(config, signal);
    const ops = new SftpFileOps(session.sftp, () => session.lost());
    const rootShown = `'${config.root}' on ${config.host}:${config.port}`;
    try {
      const home = await ops.realpath('.');
      const root = path.posix.resolve(home, config.root);
      if (create) await ops.mkdirp(root);
      const rootReal = await ops.realpath(root);
      if (!(await ops.stat(rootReal)).isDirectory()) throw new Error('it is not a folder');
      return new SftpFolder(session, ops, rootReal, rootShown);
    } catch (err) {
      session.close();
      throw new AppError(
        'CONNECTION_FAILED',
        `Folder ${rootShown} must exist and be a folder: ${isMissing(err) ? 'it does not exist' : errorMessage(err)}`,
      );
    }
  }

  get where(): string {
    return this.session.where;
  }

  close(): void {
    this.session.close();
  }

  /**
   * What a failed operation reports: a lost connection as CONNECTION_FAILED with the reason, a missing
   * file as NOT_FOUND, any other refusal of the server as CONNECTION_FAILED in its words.
   */
  failure(err: unknown): unknown {
    if (err instanceof AppError && err.code !== 'CONNECTION_FAILED') return err;
    const lost = this.session.lost();
    if (lost !== undefined && lost !== 'closed') {
      return new AppError(
        'CONNECTION_FAILED',
        `The SFTP connection to ${this.session.where} was lost: ${lost}`,
        { cause: err },
      );
    }
    if (err instanceof AppError) return err;
    if (isMissing(err)) return new AppError('NOT_FOUND', errorMessage(err), { cause: err });
    return new AppError('CONNECTION_FAILED', errorMessage(err), { cause: err });
  }

  /** Matching files (real, confined paths) with the names shown in errors, in name order. */
  async files(pattern: string): Promise<FolderFile[]> {
    const clean = cleanRelativePath(pattern);
    const names = hasWildcard(clean) ? await matchFiles(this.ops, this.rootReal, clean) : [clean];
    const out: FolderFile[] = [];
    for (const name of names) {
      try {
        const full = await confine(this.rootReal, path.posix.join(this.rootReal, name), name, (p) =>
          this.ops.realpath(p),
        );
        // The server's realpath may resolve a missing last name; the file must be there.
        if ((await this.ops.stat(full)).isDirectory()) {
          throw new AppError('BAD_REQUEST', `'${name}' is a folder in folder ${this.rootShown}, not a file`);
        }
        out.push({ full, shown: name });
      } catch (err) {
        if (isMissing(err)) {
          throw new AppError('NOT_FOUND', `File '${name}' does not exist in folder ${this.rootShown}`);
        }
        throw err;
      }
    }
    return out;
  }

  /** A destination file: clean, not a wildcard, inside the root (symlinks too), its folder created. */
  async destination(file: string): Promise<FolderFile> {
    const shown = cleanRelativePath(file);
    if (hasWildcard(shown)) throw new AppError('BAD_REQUEST', `Cannot write to a wildcard path '${shown}'`);
    const real = (p: string) => this.ops.realpath(p);
    const full = path.posix.join(this.rootReal, shown);
    await confineNew(this.rootReal, full, shown, real);
    await this.ops.mkdirp(path.posix.dirname(full));
    await confine(this.rootReal, path.posix.dirname(full), shown, real);
    return { full, shown };
  }
}
