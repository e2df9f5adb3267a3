import { nestsTooDeep, tooDeepMessage } from '../core/nesting.js';
import { DEFAULT_BATCH_SIZE, type Row, type RowStream } from '../core/records.js';
import { type ByteSource, defineFormat, type ReadContext } from './format.js';
import { formatError } from './format-error.js';
import { parseJson } from './json-exact.js';
import { type JsonOptions, JsonOptionsSchema } from './json-options.js';
import { peek, TOO_DEEP, takeComplete, valueEnd } from './json-scan.js';
import { writeJson } from './json-writer.js';
import { isRow } from './rows.js';
import { decodeText } from './text.js';
import { TextCursor } from './text-cursor.js';

const OPEN_OBJECT = 123;
const OPEN_ARRAY = 91;
const CLOSE_OBJECT = 125;
const CLOSE_ARRAY = 93;
const COMMA = 44;
const COLON = 58;
const QUOTE = 34;

/**
 * A whole JSON document already in memory whose records are at the root (an object, or an array of
 * objects), parsed at once. Undefined for anything else, including malformed text: the streaming reader
 * then reads it and words the error with its line and column.
 */
export function parseJsonRecords(text: string): Row[] | undefined {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return undefined;
  }
  // Too deep: the streaming reader then refuses it, naming the record and its line.
  if (isRow(value)) return nestsTooDeep(value) ? undefined : [value];
  if (!Array.isArray(value)) return undefined;
  for (const item of value) if (!isRow(item) || nestsTooDeep(item)) return undefined;
  return value as Row[];
}

/** Reads JSON records: the elements of an array, or a single object, at the root or at `recordPath`. */
async function* readJson(input: ByteSource, o: JsonOptions, ctx: ReadContext): RowStream {
  const batchSize = ctx.batchSize ?? DEFAULT_BATCH_SIZE;
  const cur = new TextCursor(decodeText(input, o, ctx.source), ctx);
  const fail = (message: string, index = cur.pos): Error => {
    const { line, column } = cur.where(index);
    return formatError(ctx.source, `line ${line} column ${column}`, message);
  };
  const describe = (c: number): string => (c === -1 ? 'the end of the input' : `'${String.fromCharCode(c)}'`);
  /** Parses the value at cur.pos and moves past it. */
  const parseValue = async (what: string): Promise<unknown> => {
    const end = await valueEnd(cur);
    if (end === TOO_DEEP) throw fail(tooDeepMessage(what));
    if (end === -1) throw fail(`${what} is cut off: the input ends inside it`);
    const text = cur.buf.slice(cur.pos, end);
    try {
      const value: unknown = parseJson(text);
      cur.pos = end;
      return value;
    } catch (err) {
      const m = /position (\d+)/.exec(String(err));
      const at = m ? cur.pos + Number(m[1]) : cur.pos;
      throw fail(`${what} is not valid JSON (${err instanceof Error ? err.message : String(err)})`, at);
    }
  };
  try {
    let c = await peek(cur);
    const keys = o.recordPath ? o.recordPath.split('.') : [];
    for (let k = 0; k < keys.length; k++) {
      const at = keys.slice(0, k).join('.') || 'the root';
      if (c !== OPEN_OBJECT)
        throw fail(`expected an object at ${at} (recordPath ${o.recordPath}), found ${describe(c)}`);
      cur.pos++;
      for (;;) {
        c = await peek(cur);
        if (c !== QUOTE) throw fail(`key '${keys[k]}' of recordPath ${o.recordPath} not found in ${at}`);
        const key = await parseValue('a key');
        if ((await peek(cur)) !== COLON) throw fail(`expected ':' after key ${JSON.stringify(key)}`);
        cur.pos++;
        c = await peek(cur);
        if (key === keys[k]) break;
        await parseSkip();
        c = await peek(cur);
        if (c === COMMA) cur.pos++;
        else if (c !== CLOSE_OBJECT) throw fail(`expected ',' or '}', found ${describe(c)}`);
      }
    }
    if (c === OPEN_OBJECT) {
      const value = await parseValue('record 1');
      if (isRow(value)) yield [value];
    } else if (c === OPEN_ARRAY) {
      cur.pos++;
      let n = 0;
      let batch: Row[] = [];
      c = await peek(cur);
      if (c === CLOSE_ARRAY) cur.pos++;
      else {
        for (;;) {
          const taken = takeComplete(cur, batch, batchSize);
          n += taken.count;
          if (batch.length >= batchSize) {
            ctx.signal?.throwIfAborted();
            yield batch;
            batch = [];
          }
          if (taken.closed) break;
          if (taken.count > 0) {
            c = await peek(cur);
            continue;
          }
          n++;
          if (c === -1) throw fail(`the input ends inside the array after record ${n - 1}`);
          const value = await parseValue(`record ${n}`);
          if (!isRow(value)) throw fail(`record ${n} is not an object`, cur.pos - 1);
          batch.push(value);
          if (batch.length >= batchSize) {
            ctx.signal?.throwIfAborted();
            yield batch;
            batch = [];
          }
          c = await peek(cur);
          if (c === COMMA) {
            cur.pos++;
            c = await peek(cur);
          } else if (c === CLOSE_ARRAY) {
            cur.pos++;
            break;
          } else throw fail(`expected ',' or ']' after record ${n}, found ${describe(c)}`);
        }
      }
      if (batch.length > 0) yield batch;
    } else {
      throw fail(
        `expected an array of objects or an object${o.recordPath ? ` at ${o.recordPath}` : ''}, found ${describe(c)}`,
      );
    }
    // At the root, trailing text means a broken document; below a recordPath the rest is not read at all.
    if (keys.length === 0) {
      const after = await peek(cur);
      if (after !== -1) throw fail(`unexpected ${describe(after)} after the records`);
    }
  } finally {
    await cur.close();
  }

  async function parseSkip(): Promise<void> {
    const end = await valueEnd(cur);
    if (end === TOO_DEEP) throw fail(tooDeepMessage('a value before the records'));
    if (end === -1) throw fail('the input ends inside a value');
    cur.pos = end;
  }
}

export const jsonFormat = defineFormat({
  type: 'json',
  optionsSchema: JsonOptionsSchema,
  mediaTypes: ['application/json', 'text/json'],
  mediaTypeSuffixes: ['+json'],
  extensions: ['json'],
  read: readJson,
  write: writeJson,
});
