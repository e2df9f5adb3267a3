import { readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * Where the built console lives: `dist/console` of the package, whether this file runs compiled from
 * dist/server or from src/server (the tests), because both sit two levels below the package root.
 */
export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
/** Types worth compressing; images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.map']);

export interface ConsoleFile {
  type: string;
  body: Buffer;
  gzipped: Buffer | undefined;
  mtimeMs: number;
}

/**
 * The console's files, read once and kept with their gzipped form. A file whose modification time
 * changed since it was read (index.html after a rebuild) is read again; hashed assets never change.
 */
export class ConsoleFiles {
  private readonly cache = new Map<string, ConsoleFile>();

  constructor(readonly dir: string = CONSOLE_DIR) {}

  /** Whether a built console is there at all. */
  get built(): boolean {
    return statSync(join(this.dir, 'index.html'), { throwIfNoEntry: false })?.isFile() === true;
  }

  /**
   * The file at a path relative to the console folder, or undefined when it does not exist. `relative`
   * must already be checked to stay inside the folder (see `assetName`).
   */
  get(relative: string): ConsoleFile | undefined {
    const full = join(this.dir, relative);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (!stat?.isFile()) return undefined;
    const hit = this.cache.get(relative);
    if (hit && hit.mtimeMs === stat.mtimeMs) return hit;
    const ext = extname(relative);
    const body = readFileSync(full);
    const file: ConsoleFile = {
      type: TYPES[ext] ?? 'application/octet-stream',
      body,
      gzipped: COMPRESSIBLE.has(ext) && body.length > 1024 ? gzipSync(body) : undefined,
      mtimeMs: stat.mtimeMs,
    };
    this.cache.set(relative, file);
    return file;
  }
}

/** A file name Vite writes under assets/ (name-hash.ext): nothing that could leave the folder. */
export function assetName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/.test(name) && !name.includes('..');
}
