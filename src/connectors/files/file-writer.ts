import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../core/errors.js';
import type { Column, Row, RowStream } from '../../core/records.js';
import type { BoundFormat } from '../../formats/format-registry.js';
import type { WriteMode, Writer } from '../connector.js';
import { BatchChannel } from './batch-channel.js';

export interface FileWriterOptions {
  full: string;
  shown: string;
  format: BoundFormat;
  mode: WriteMode;
  columns: Column[];
  signal: AbortSignal | undefined;
}

/** The size of a regular file, or undefined when there is none. */
export async function sizeOf(full: string): Promise<number | undefined> {
  try {
    const s = await stat(full);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** A hidden name beside the target, so the final rename stays on one file system. */
function tempPath(full: string): string {
  return path.join(path.dirname(full), `.${path.basename(full)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * The byte fast path's writer: streams `bytes` into a temp file and renames it over `full` only when every
 * byte arrived, with the same guarantee as openFileWriter (old file or new file, never half of one). An
 * abort or a failing source removes the temp file and leaves the target untouched.
 */
export async function writeBytesAtomically(
  full: string,
  bytes: AsyncIterable<Uint8Array | string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const tmp = tempPath(full);
  try {
    await pipeline(Readable.from(bytes), createWriteStream(tmp), signal ? { signal } : {});
    await rename(tmp, full);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function endsWithNewline(full: string, size: number): Promise<boolean> {
  const fh = await open(full, 'r');
  try {
    const { buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
    return buffer[0] === 10;
  } finally {
    await fh.close();
  }
}

/**
 * Writes go to a hidden temp file beside the target and are renamed over it on commit, so readers see
 * the old file or the new one, never a half-written one, and a rollback or crash leaves the target as it
 * was. Append keeps that guarantee: CSV and NDJSON start the temp file as a byte copy of the target and
 * add lines (CSV without a second header); JSON and XML cannot be appended to in place, so the target's
 * records are streamed through the format into the temp file ahead of the new ones (a rewrite).
 */
export async function openFileWriter(o: FileWriterOptions): Promise<Writer> {
  if (o.mode === 'upsert') {
    throw new AppError('BAD_REQUEST', `Files cannot be upserted ('${o.shown}'); use mode append or replace`);
  }
  const tmp = tempPath(o.full);
  const existing = o.mode === 'append' ? await sizeOf(o.full) : undefined;
  let format = o.format;
  let prefix: RowStream | undefined;
  let lead = '';
  if (existing !== undefined && existing > 0) {
    if (format.type === 'csv' || format.type === 'ndjson') {
      await copyFile(o.full, tmp);
      if (format.type === 'csv') format = format.with({ header: false });
      if (!(await endsWithNewline(o.full, existing))) lead = '\n';
    } else {
      prefix = format.read(createReadStream(o.full), { source: o.shown });
    }
  }
  const channel = new BatchChannel();
  let rowsWritten = 0;
  async function* rows(): RowStream {
    if (prefix) yield* prefix;
    yield* channel;
  }
  async function* chunks(): AsyncGenerator<string | Uint8Array> {
    if (lead) yield lead;
    const ctx = o.columns.length > 0 ? { columns: o.columns } : {};
    yield* format.write(rows(), o.signal ? { ...ctx, signal: o.signal } : ctx);
  }
  const out = createWriteStream(tmp, {
    flags: existing !== undefined && !prefix && existing > 0 ? 'a' : 'w',
  });
  let failure: unknown;
  const done = pipeline(Readable.from(chunks()), out).catch((err: unknown) => {
    failure = err;
    channel.abort(err);
  });
  let finished = false;
  const discard = async (): Promise<void> => {
    finished = true;
    channel.abort(new AppError('RUN_CANCELLED', `Write to '${o.shown}' rolled back`));
    await done;
    await rm(tmp, { force: true });
  };
  const onAbort = (): void => {
    void discard();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });

  return {
    async write(batch: Row[]): Promise<void> {
      if (finished) throw new AppError('CONFLICT', `The write to '${o.shown}' is already finished`);
      o.signal?.throwIfAborted();
      await channel.push(batch);
      if (failure !== undefined) throw failure;
      rowsWritten += batch.length;
    },
    async commit(): Promise<{ rowsWritten: number }> {
      if (finished) throw new AppError('CONFLICT', `The write to '${o.shown}' is already finished`);
      finished = true;
      o.signal?.removeEventListener('abort', onAbort);
      channel.end();
      await done;
      if (failure !== undefined) {
        await rm(tmp, { force: true });
        throw failure;
      }
      await rename(tmp, o.full);
      return { rowsWritten };
    },
    async rollback(): Promise<void> {
      o.signal?.removeEventListener('abort', onAbort);
      if (!finished) await discard();
      else await rm(tmp, { force: true });
    },
  };
}
