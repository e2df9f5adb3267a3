import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../core/errors.js';
import type { Column, Row, RowStream } from '../../core/records.js';
import type { BoundFormat } from '../../formats/format-registry.js';
import type { WriteMode, Writer } from '../connector.js';
import { BatchChannel } from './batch-channel.js';
import type { FileOps } from './file-ops.js';

export interface FileWriterOptions {
  /** Where the file lives: the local disk or an SFTP server. */
  ops: FileOps;
  full: string;
  shown: string;
  format: BoundFormat;
  mode: WriteMode;
  columns: Column[];
  signal: AbortSignal | undefined;
}

/** A hidden name beside the target, so the final rename stays on one file system. */
function tempPath(ops: FileOps, full: string): string {
  const p = ops.path;
  return p.join(p.dirname(full), `.${p.basename(full)}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * The byte fast path's writer: streams `bytes` into a temp file and renames it over `full` only when every
 * byte arrived, with the same guarantee as openFileWriter (old file or new file, never half of one). An
 * abort or a failing source removes the temp file and leaves the target untouched.
 */
export async function writeBytesAtomically(
  ops: FileOps,
  full: string,
  bytes: AsyncIterable<Uint8Array | string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  const tmp = tempPath(ops, full);
  try {
    await pipeline(Readable.from(bytes), ops.openWrite(tmp, false), signal ? { signal } : {});
    await ops.rename(tmp, full);
  } catch (err) {
    await removeQuietly(ops, tmp);
    throw err;
  }
}

/**
 * Removes a temp file after a failure. The failure is what the caller reports: when the removal fails
 * too (the connection to a remote folder is gone), the temp file stays behind under its hidden name.
 */
async function removeQuietly(ops: FileOps, tmp: string): Promise<void> {
  await ops.remove(tmp).catch(() => undefined);
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
  const { ops } = o;
  const tmp = tempPath(ops, o.full);
  const existing = o.mode === 'append' ? await ops.size(o.full) : undefined;
  let format = o.format;
  let prefix: RowStream | undefined;
  let lead = '';
  if (existing !== undefined && existing > 0) {
    if (format.type === 'csv' || format.type === 'ndjson') {
      try {
        await ops.copy(o.full, tmp);
      } catch (err) {
        await removeQuietly(ops, tmp);
        throw err;
      }
      if (format.type === 'csv') format = format.with({ header: false });
      if (!(await ops.endsWithNewline(o.full, existing))) lead = '\n';
    } else {
      prefix = format.read(ops.openRead(o.full), { source: o.shown });
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
  const out = ops.openWrite(tmp, existing !== undefined && !prefix && existing > 0);
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
    await removeQuietly(ops, tmp);
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
        await removeQuietly(ops, tmp);
        throw failure;
      }
      try {
        await ops.rename(tmp, o.full);
      } catch (err) {
        await removeQuietly(ops, tmp);
        throw err;
      }
      return { rowsWritten };
    },
    async rollback(): Promise<void> {
      o.signal?.removeEventListener('abort', onAbort);
      if (!finished) await discard();
      else await removeQuietly(ops, tmp);
    },
  };
}
