import type { Row } from '../../src/core/records.js';
import { bindFormat } from '../../src/formats/registry.js';

/** Text as a byte stream cut into small chunks, so every scanner meets chunk boundaries mid-token. */
export async function* chunked(text: string | Buffer, size = 7): AsyncGenerator<Uint8Array> {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

export async function readAll(
  type: string,
  text: string | Buffer,
  options: Record<string, unknown> = {},
  chunkSize = 7,
): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of bindFormat({ type, options }).read(chunked(text, chunkSize), {
    source: `test.${type}`,
  })) {
    rows.push(...batch);
  }
  return rows;
}

export async function* batches(rows: Row[], size = 2): AsyncGenerator<Row[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

export async function writeAll(
  type: string,
  rows: Row[],
  options: Record<string, unknown> = {},
): Promise<string> {
  let out = '';
  for await (const chunk of bindFormat({ type, options }).write(batches(rows), {})) {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  }
  return out;
}

export async function writeBytes(
  type: string,
  rows: Row[],
  options: Record<string, unknown> = {},
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of bindFormat({ type, options }).write(batches(rows), {})) {
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

/** A generated large input, produced lazily so the test itself does not hold it in memory. */
export async function* generated(
  count: number,
  render: (i: number) => string,
  head = '',
  tail = '',
): AsyncGenerator<Uint8Array> {
  let out = head;
  for (let i = 0; i < count; i++) {
    out += render(i);
    if (out.length > 65536) {
      yield Buffer.from(out);
      out = '';
    }
  }
  yield Buffer.from(out + tail);
}
