import { cp, lstat, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { inside } from '../connectors/file-access.js';
import type { Context } from '../context.js';
import { connectorConfig } from './connection-kind.js';

const SYSTEM = { name: 'system' };

/** Files the server itself keeps at the top of the data directory: never moved, whoever names them. */
const SERVER_FILES = /^(integrator\.db(-wal|-shm|-journal)?|secret\.key)$/;

/** What SQLite keeps beside a database file, moved with it. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/**
 * Before file roots existed, connections with relative paths used folders and files directly in the
 * data directory (the demo's `demo.db` and `output`), which no connection may use now. On start, each
 * such path is moved into the first file root and the connection is saved with its new place, so an
 * upgraded data directory keeps working. The server's own files are never moved, a path is moved only
 * when nothing is at its new place yet, and a connection already inside a root is left alone.
 */
export async function moveIntoFileRoots(ctx: Context): Promise<void> {
  const target = ctx.settings.fileRoots[0];
  if (target === undefined) return;
  for (const def of await ctx.definitions.list('connection')) {
    try {
      await moveConnection(ctx, def.name, target);
    } catch (err) {
      // Another process of a cluster may be moving it too; a connection left behind fails its runs
      // with PATH_NOT_ALLOWED naming the path, and the server still starts.
      ctx.logger.warn({ err, connection: def.name }, 'could not move a connection into the file roots');
    }
  }
}

async function moveConnection(ctx: Context, name: string, target: string): Promise<void> {
  const { dataDir } = ctx.settings;
  const def = await ctx.definitions.resolve('connection', name);
  const { type, config } = connectorConfig(def.spec);
  const paths = ctx.extensions.connectors.get(type).localPaths?.(config) ?? [];
  const changed: Record<string, string> = {};
  for (const p of paths) {
    const rel = normalize(p.path);
    const first = rel.split(sep)[0] ?? '';
    if (isAbsolute(rel) || first === '..' || first === '.' || SERVER_FILES.test(first)) continue;
    const old = resolve(dataDir, rel);
    if (!(await ctx.fileRoots.problem(old, true))) continue;
    const moved = join(target, rel);
    await moveUnlessTaken(old, moved, type === 'sqlite' ? SIDE_FILES : []);
    const field = p.field.replace(/^\//, '');
    changed[field] = inside(dataDir, moved) ? relative(dataDir, moved) : moved;
  }
  if (Object.keys(changed).length === 0) return;
  await ctx.definitions.put('connection', def.name, { ...def.spec, ...changed }, SYSTEM);
  ctx.logger.info(
    { connection: def.name, moved: changed },
    'moved a connection out of the data directory into the file roots',
  );
}

async function exists(p: string): Promise<boolean> {
  return (await lstat(p).catch(() => undefined)) !== undefined;
}

/** Moves `from` (and its side files) to `to` when `from` exists and `to` does not. */
async function moveUnlessTaken(from: string, to: string, sides: string[]): Promise<void> {
  if (!(await exists(from)) || (await exists(to))) return;
  await mkdir(dirname(to), { recursive: true });
  for (const suffix of ['', ...sides]) {
    if (await exists(from + suffix)) await move(from + suffix, to + suffix);
  }
}

async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    // Another file system (a root elsewhere): copy, then remove the original.
    if (!(err instanceof Error && 'code' in err && err.code === 'EXDEV')) throw err;
    await cp(from, to, { recursive: true, errorOnExist: true, force: false });
    await rm(from, { recursive: true, force: true });
  }
}
