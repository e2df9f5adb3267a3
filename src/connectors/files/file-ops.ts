import type { Readable, Writable } from 'node:stream';

/** A folder entry as a listing gives it: a Dirent has this shape, so does an SFTP listing mapped to it. */
export interface DirEntry {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

/** The path rules of the file system the operations act on (`node:path` locally, POSIX over SFTP). */
export interface PathFlavour {
  join(...parts: string[]): string;
  dirname(p: string): string;
  basename(p: string): string;
}

/**
 * The file operations the files connector's writers, wildcards and listings are built on, so the same
 * code serves a local folder and a folder on an SFTP server. Every path is a full path on that file
 * system, already confined by the caller. A failure rejects (or errors the stream) with the reason;
 * a missing file is an error whose `code` is 'ENOENT'.
 */
export interface FileOps {
  readonly path: PathFlavour;
  /** The entries of a folder; none when it cannot be read (a missing folder matches nothing). */
  list(dir: string): Promise<DirEntry[]>;
  /** The size of a regular file, or undefined when there is none. */
  size(full: string): Promise<number | undefined>;
  /** Whether the last byte of a file of `size` bytes (> 0) is a line feed. */
  endsWithNewline(full: string, size: number): Promise<boolean>;
  openRead(full: string): Readable;
  /** A stream that creates (or truncates) the file, or appends to it. */
  openWrite(full: string, append: boolean): Writable;
  /** Copies a file's bytes to a new file. */
  copy(from: string, to: string): Promise<void>;
  /** Renames `from` to `to`, replacing `to` if it exists, in one step. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; nothing happens when it is missing. */
  remove(full: string): Promise<void>;
}
