/**
 * A record without an end (a line feed never comes, a quote never closes) must fail the read naming its
 * line, not grow in memory until the process dies: every text format holds at most one record of the
 * maximum record size.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/core/errors.js';
import { DEFAULT_MAX_RECORD_SIZE } from '../../src/formats/format.js';
import { bindFormat } from '../../src/formats/registry.js';

/** `head`, then `fill` repeated for ever: an input no reader can hold. */
async function* endless(head: string, fill: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(head);
  const chunk = Buffer.from(fill.repeat(Math.ceil(65_536 / fill.length)));
  for (;;) yield chunk;
}

async function readError(type: string, input: AsyncIterable<Uint8Array>, maxRecordSize?: number) {
  const ctx = { source: `big.${type}`, ...(maxRecordSize === undefined ? {} : { maxRecordSize }) };
  try {
    for await (const _ of bindFormat({ type }).read(input, ctx)) {
      // keep reading
    }
  } catch (err) {
    return err;
  }
  throw new Error('the read ended');
}

describe('the maximum record size', () => {
  const MiB = 1024 * 1024;
  const cases: [string, string, string, number][] = [
    ['csv', 'id,name\n1,short\n2,', 'x', 3],
    ['csv', 'id,name\n1,"unclosed', 'y\n', 2],
    ['ndjson', '{"id":1}\n{"id":2}\n{"name":"', 'z', 3],
    ['json', '[{"id":1},{"name":"', 'z', 1],
    ['xml', '<rows><row><name>', 'z', 1],
  ];
  for (const [type, head, fill, line] of cases) {
    it(`stops a never-ending ${type} record (${JSON.stringify(head.slice(-6))}…) naming its line`, async () => {
      const err = await readError(type, endless(head, fill), MiB);
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'FORMAT_ERROR', status: 400 });
      expect((err as AppError).message).toContain(
        `big.${type} line ${line}: a record is longer than the maximum record size (${MiB} characters)`,
      );
    });
  }

  it('stops a never-ending line at the default bound when the caller sets none', async () => {
    const err = await readError('csv', endless('a,b\n1,2\n', 'q'));
    expect((err as AppError).message).toMatch(
      `big.csv line 3: a record is longer than the maximum record size (${DEFAULT_MAX_RECORD_SIZE} characters)`,
    );
  });

  it('reads records under the bound', async () => {
    const rows: unknown[] = [];
    const input = (async function* () {
      yield Buffer.from(`a,b\n${'1,2\n'.repeat(5000)}`);
    })();
    for await (const b of bindFormat({ type: 'csv' }).read(input, { source: 'ok.csv', maxRecordSize: 1000 }))
      rows.push(...b);
    expect(rows).toHaveLength(5000);
  });
});
