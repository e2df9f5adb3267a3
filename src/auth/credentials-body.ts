import { AppError, errorMessage } from '../core/errors.js';
import type { Row } from '../core/records.js';
import type { FormatRegistry } from '../formats/registry.js';
import { firstSignificantByte, sniffFormat } from '../formats/sniff.js';

/**
 * The token endpoint's body, whatever the request says it is: clients of the compatibility contract
 * send JSON with `curl -d` (which labels it a form), or no Content-Type at all. The content decides:
 * JSON, XML (`<credentials><login>…</login>…`), a form (`login=…&password=…`) or CSV (a header line and
 * one record). The result is validated against the route's schema like any JSON body.
 */
export async function parseCredentials(bytes: Buffer, formats: FormatRegistry): Promise<unknown> {
  const first = firstSignificantByte(bytes);
  const sniffed = sniffFormat(first);
  if (sniffed === undefined) {
    throw new AppError('INVALID_PAYLOAD', 'Request body is empty; send {"login": …, "password": …}');
  }
  if (sniffed === 'json') {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new AppError('INVALID_PAYLOAD', `Request body is not valid JSON: ${errorMessage(err)}`);
    }
  }
  if (sniffed === 'csv') {
    const text = bytes.toString('utf8').trim();
    const line = text.split(/\r?\n/, 1)[0] ?? '';
    // A form has `name=value` pairs; a CSV header line has none (and credentials have no '=' in names).
    if (/^[^,;=]+=/.test(line)) return Object.fromEntries(new URLSearchParams(text));
  }
  const rows: Row[] = [];
  for await (const batch of formats.bind({ type: sniffed }).read(once(bytes), { source: 'request body' })) {
    rows.push(...batch);
    if (rows.length > 1) break;
  }
  if (rows.length !== 1) {
    throw new AppError(
      'INVALID_PAYLOAD',
      `Request body holds ${rows.length > 1 ? 'more than one' : 'no'} record; send one login and password`,
    );
  }
  return rows[0];
}

async function* once(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}
