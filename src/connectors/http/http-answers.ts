/**
 * An HTTP destination's answers as rows (a step's `to.responses`): one row per request the API took,
 * with the number of its first record, how many records it carried, the status, the headers asked for
 * and the body (parsed JSON, text, or left out). The flow engine hands them to another destination or
 * to a listener's `@response`.
 */
import { AppError } from '../../core/errors.js';
import type { Column, Row } from '../../core/records.js';
import { parseJson } from '../../formats/json-exact.js';
import type { HttpAnswer } from './http-client.js';

export const ANSWER_BODIES = ['json', 'text', 'none'] as const;
export type AnswerBody = (typeof ANSWER_BODIES)[number];

/** The fields every answer row has, before the headers asked for. */
const FIXED = ['record', 'records', 'status', 'body'] as const;

/** What the engine asks of an HTTP destination that keeps its answers. */
export interface AnswerSink {
  /** Header names whose values become columns (named in lower case). */
  headers: readonly string[];
  body: AnswerBody;
  /**
   * Called with each request's answer row, in order, before the next request; its promise holds the
   * writer back (back-pressure from wherever the rows go) and rejects once that destination failed.
   */
  write(rows: Row[]): Promise<void>;
}

/** The columns of the answer rows, known before any request is sent (a table can be created from them). */
export function answerColumns(headers: readonly string[], body: AnswerBody): Column[] {
  const columns: Column[] = [
    { name: 'record', type: 'integer', nullable: false },
    { name: 'records', type: 'integer', nullable: false },
    { name: 'status', type: 'integer', nullable: false },
  ];
  for (const h of headers) columns.push({ name: h.toLowerCase(), type: 'text', nullable: true });
  if (body !== 'none')
    columns.push({ name: 'body', type: body === 'json' ? 'json' : 'text', nullable: true });
  return columns;
}

/** A header list that would collide with a fixed field or with itself; undefined when it is fine. */
export function answerHeadersProblem(headers: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const h of headers) {
    const name = h.toLowerCase();
    if ((FIXED as readonly string[]).includes(name)) return `header '${h}' would be the column ${name}`;
    if (seen.has(name)) return `header '${h}' is listed twice`;
    seen.add(name);
  }
  return undefined;
}

/**
 * One answer as a row; reads (and so frees) its body. An empty body is null. A body that is not JSON
 * when `json` is asked fails the step naming the request: the API took it, so the error says so.
 */
export async function answerRow(
  answer: HttpAnswer,
  sink: Pick<AnswerSink, 'headers' | 'body'>,
  first: number,
  count: number,
  what: string,
): Promise<Row> {
  const row: Row = { record: first, records: count, status: answer.status };
  for (const h of sink.headers) {
    const v = answer.headers[h.toLowerCase()];
    row[h.toLowerCase()] = v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  if (sink.body === 'none') {
    await answer.discard();
    return row;
  }
  const text = await answer.text();
  if (sink.body === 'text') {
    row['body'] = text === '' ? null : text;
    return row;
  }
  if (text.trim() === '') {
    row['body'] = null;
    return row;
  }
  try {
    row['body'] = parseJson(text);
  } catch (err) {
    throw new AppError(
      'FORMAT_ERROR',
      `${what}: ${answer.where} answered ${answer.status} with a body that is not JSON (to.responses.body json; use text to keep it as it is): ${text.slice(0, 100)}`,
      { cause: err },
    );
  }
  return row;
}
