/**
 * Reading and writing a file over SFTP with several requests in flight, as OpenSSH's own sftp client
 * does: one request at a time would wait a round trip per chunk. Memory stays bounded by the requests in
 * flight. Every request's callback settles exactly one promise, so a connection that drops with requests
 * outstanding fails the stream once, with the reason, and never throws into the process.
 */
import { Readable, Writable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { sftpError } from './sftp-errors.js';

/** OpenSSH's sftp-server answers at most this many bytes per read request (its message limit less 1 KiB). */
const READ_CHUNK = 255 * 1024;
const READS_IN_FLIGHT = 8;
/** Writes are cut to what every server takes in one request. */
const WRITE_CHUNK = 32 * 1024;
const WRITES_IN_FLIGHT = 32;

/**
 * Whether the connection under a channel has ended, and why. ssh2 never answers a request sent on a
 * channel that has closed, so every request asks first and fails at once instead of waiting forever.
 */
export type Gone = () => string | undefined;

/** One SFTP request as a promise, its failure in sftpError's words. */
export function request<T>(
  gone: Gone,
  what: string,
  p: string,
  run: (cb: (err: Error | null | undefined, value: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const reason = gone();
    if (reason !== undefined) {
      reject(sftpError(new Error(`the connection has ended (${reason})`), what, p));
      return;
    }
    try {
      run((err, value) => (err ? reject(sftpError(err, what, p)) : resolve(value)));
    } catch (err) {
      // ssh2 throws at once for a request it cannot send.
      reject(sftpError(err, what, p));
    }
  });
}

function closeQuietly(sftp: SFTPWrapper, gone: Gone, handle: Buffer): Promise<void> {
  return request<void>(gone, 'Closing', '', (cb) => sftp.close(handle, cb)).catch(() => undefined);
}

/** `len` bytes at `offset`, fewer only at the end of the file (a short answer is read on from where it stopped). */
async function readAt(
  sftp: SFTPWrapper,
  gone: Gone,
  handle: Buffer,
  full: string,
  offset: number,
  len: number,
): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = await request<number>(gone, 'Reading', full, (cb) =>
      sftp.read(handle, buf, got, len - got, offset + got, cb),
    );
    if (n === 0) break;
    got += n;
  }
  return got === len ? buf : buf.subarray(0, got);
}

async function* readChunks(sftp: SFTPWrapper, gone: Gone, full: string): AsyncGenerator<Buffer> {
  const handle = await request<Buffer>(gone, 'Opening', full, (cb) => sftp.open(full, 'r', cb));
  const queue: Promise<Buffer>[] = [];
  try {
    let next = 0;
    const issue = (): void => {
      const p = readAt(sftp, gone, handle, full, next, READ_CHUNK);
      // Settled later, or never awaited when the stream ends first: never an unhandled rejection.
      p.catch(() => undefined);
      queue.push(p);
      next += READ_CHUNK;
    };
    for (let i = 0; i < READS_IN_FLIGHT; i++) issue();
    for (;;) {
      const head = queue.shift();
      if (!head) return;
      const buf = await head;
      if (buf.length > 0) yield buf;
      if (buf.length < READ_CHUNK) return;
      issue();
    }
  } finally {
    await closeQuietly(sftp, gone, handle);
  }
}

export function sftpReadStream(sftp: SFTPWrapper, gone: Gone, full: string): Readable {
  return Readable.from(readChunks(sftp, gone, full), { objectMode: false, highWaterMark: READ_CHUNK });
}

/** A Writable onto a file on the server, created (or truncated), or opened to append. */
export class SftpWriteStream extends Writable {
  private handle: Buffer | undefined;
  private offset = 0;
  private inFlight = 0;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly sftp: SFTPWrapper,
    private readonly gone: Gone,
    private readonly full: string,
    private readonly append: boolean,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    request<Buffer>(this.gone, 'Creating', this.full, (cb) =>
      this.sftp.open(this.full, this.append ? 'a' : 'w', cb),
    ).then(
      async (handle) => {
        this.handle = handle;
        // Writes name their offset; appending starts at the end of what is there.
        if (this.append) {
          const stats = await request<{ size: number }>(this.gone, 'Reading', this.full, (cb) =>
            this.sftp.fstat(handle, cb),
          );
          this.offset = stats.size;
        }
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  private async settle(limit: number): Promise<void> {
    while (this.inFlight > limit && this.failure === undefined) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.failure) throw this.failure;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    if (!handle) {
      callback(new Error(`'${this.full}' is not open`));
      return;
    }
    for (let at = 0; at < chunk.length; at += WRITE_CHUNK) {
      const part = chunk.subarray(at, Math.min(chunk.length, at + WRITE_CHUNK));
      this.inFlight++;
      void request<void>(this.gone, 'Writing', this.full, (cb) =>
        this.sftp.write(handle, part, 0, part.length, this.offset, cb),
      ).then(
        () => this.done(undefined),
        (err: Error) => this.done(err),
      );
      this.offset += part.length;
    }
    this.settle(WRITES_IN_FLIGHT).then(() => callback(), callback);
  }

  private done(err: Error | undefined): void {
    this.inFlight--;
    this.failure ??= err;
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.settle(0)
      .then(async () => {
        const handle = this.handle;
        this.handle = undefined;
        if (handle) await request<void>(this.gone, 'Closing', this.full, (cb) => this.sftp.close(handle, cb));
      })
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) {
      callback(error);
      return;
    }
    void closeQuietly(this.sftp, this.gone, handle).then(() => callback(error));
  }
}
