/** FileOps on a folder of an SFTP server, for the files connector's writers, wildcards and listings. */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import type { DirEntry, FileOps } from '../files/file-ops.js';
import { isMissing, sftpError } from './sftp-errors.js';
import { type Gone, request, SftpWriteStream, sftpReadStream } from './sftp-streams.js';

/**
 * Runs an OpenSSH extension request: false when the server does not offer it (ssh2 refuses such a
 * request at once, before sending anything), true when it succeeded.
 */
function extension(
  gone: Gone,
  what: string,
  p: string,
  run: (cb: (err: Error | undefined | null) => void) => void,
) {
  return new Promise<boolean>((resolve, reject) => {
    const reason = gone();
    if (reason !== undefined) {
      reject(sftpError(new Error(`the connection has ended (${reason})`), what, p));
      return;
    }
    try {
      run((err) => (err ? reject(sftpError(err, what, p)) : resolve(true)));
    } catch {
      resolve(false);
    }
  });
}

export class SftpFileOps implements FileOps {
  readonly path = path.posix;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly gone: Gone,
  ) {}

  private call<T>(
    what: string,
    p: string,
    run: (cb: (err: Error | undefined | null, value: T) => void) => void,
  ) {
    return request<T>(this.gone, what, p, run);
  }

  realpath(p: string): Promise<string> {
    return this.call<string>('Resolving', p, (cb) => this.sftp.realpath(p, cb));
  }

  async list(dir: string): Promise<DirEntry[]> {
    let entries: FileEntryWithStats[];
    try {
      entries = await this.readdir(dir);
    } catch {
      return [];
    }
    return entries
      .filter((e) => e.filename !== '.' && e.filename !== '..')
      .map((e) => ({
        name: e.filename,
        isFile: () => e.attrs.isFile(),
        isDirectory: () => e.attrs.isDirectory(),
        isSymbolicLink: () => e.attrs.isSymbolicLink(),
      }));
  }

  readdir(dir: string): Promise<FileEntryWithStats[]> {
    return this.call<FileEntryWithStats[]>('Listing', dir, (cb) => this.sftp.readdir(dir, cb));
  }

  async size(full: string): Promise<number | undefined> {
    try {
      const s = await this.call<Stats>('Reading', full, (cb) => this.sftp.stat(full, cb));
      return s.isFile() ? s.size : undefined;
    } catch {
      return undefined;
    }
  }

  stat(full: string): Promise<Stats> {
    return this.call<Stats>('Reading', full, (cb) => this.sftp.stat(full, cb));
  }

  async isFolder(full: string): Promise<boolean> {
    try {
      return (await this.stat(full)).isDirectory();
    } catch {
      return false;
    }
  }

  async endsWithNewline(full: string, size: number): Promise<boolean> {
    const handle = await this.call<Buffer>('Opening', full, (cb) => this.sftp.open(full, 'r', cb));
    try {
      const buf = Buffer.alloc(1);
      await this.call<number>('Reading', full, (cb) => this.sftp.read(handle, buf, 0, 1, size - 1, cb));
      return buf[0] === 10;
    } finally {
      await this.call<void>('Closing', full, (cb) => this.sftp.close(handle, cb)).catch(() => undefined);
    }
  }

  openRead(full: string): Readable {
    return sftpReadStream(this.sftp, this.gone, full);
  }

  openWrite(full: string, append: boolean): Writable {
    return new SftpWriteStream(this.sftp, this.gone, full, append);
  }

  /** A copy on the server (OpenSSH's copy-data) when it offers one, else the bytes through this process. */
  async copy(from: string, to: string): Promise<void> {
    const src = await this.call<Buffer>('Opening', from, (cb) => this.sftp.open(from, 'r', cb));
    try {
      const dst = await this.call<Buffer>('Creating', to, (cb) => this.sftp.open(to, 'w', cb));
      let copied: boolean;
      try {
        copied = await extension(this.gone, 'Copying', from, (cb) =>
          this.sftp.ext_copy_data(src, 0, 0, dst, 0, cb),
        );
      } finally {
        await this.call<void>('Closing', to, (cb) => this.sftp.close(dst, cb));
      }
      if (!copied) await pipeline(this.openRead(from), this.openWrite(to, false));
    } finally {
      await this.call<void>('Closing', from, (cb) => this.sftp.close(src, cb)).catch(() => undefined);
    }
  }

  /**
   * OpenSSH's posix-rename replaces the target in one step. A server without it renames only onto a
   * missing name, so the old file is removed first: for a moment the target is missing.
   */
  async rename(from: string, to: string): Promise<void> {
    if (await extension(this.gone, 'Renaming', from, (cb) => this.sftp.ext_openssh_rename(from, to, cb)))
      return;
    await this.remove(to);
    await this.call<void>('Renaming', from, (cb) => this.sftp.rename(from, to, cb));
  }

  async remove(full: string): Promise<void> {
    try {
      await this.call<void>('Removing', full, (cb) => this.sftp.unlink(full, cb));
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }

  /** Creates a folder and its missing parents. */
  async mkdirp(dir: string): Promise<void> {
    if (await this.isFolder(dir)) return;
    const parent = path.posix.dirname(dir);
    if (parent !== dir) await this.mkdirp(parent);
    try {
      await this.call<void>('Creating folder', dir, (cb) => this.sftp.mkdir(dir, cb));
    } catch (err) {
      // Created meanwhile by another run.
      if (!(await this.isFolder(dir))) throw err;
    }
  }
}
