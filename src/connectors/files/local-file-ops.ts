import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileOps } from './file-ops.js';

/** FileOps on the local disk. */
export const localFileOps: FileOps = {
  path,
  async list(dir) {
    try {
      return await readdir(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  },
  async size(full) {
    try {
      const s = await stat(full);
      return s.isFile() ? s.size : undefined;
    } catch {
      return undefined;
    }
  },
  async endsWithNewline(full, size) {
    const fh = await open(full, 'r');
    try {
      const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
      return buffer[0] === 10;
    } finally {
      await fh.close();
    }
  },
  openRead: (full) => createReadStream(full, { highWaterMark: 256 * 1024 }),
  openWrite: (full, append) => createWriteStream(full, { flags: append ? 'a' : 'w' }),
  copy: (from, to) => copyFile(from, to),
  rename: (from, to) => rename(from, to),
  remove: (full) => rm(full, { force: true }),
};
