/**
 * An HTTP API as a transfer step's destination: one request per record or per batch, sent as the
 * records arrive. An API cannot roll back: what it accepted before a failure stays there, and the
 * writer says how much that was (Writer.leftBehind).
 */
import { AppError } from '../../core/errors.js';
import { oneBatch, type Row } from '../../core/records.js';
import type { FormatRegistry } from '../../formats/format-registry.js';
import { stringifyJson } from '../../formats/json-exact.js';
import type { DestinationSpec, Writer } from '../connector.js';
import { answerRow } from './http-answers.js';
import type { HttpClient } from './http-client.js';
import type { HttpConfig } from './http-config.js';
import type { HttpTargetRequest } from './http-request-schema.js';
import { failedAnswer, requestHeaders } from './http-source.js';
import { buildUrl, expandHeader, type Lookup } from './http-template.js';

const WHERE = 'to.request';

/** The variables every destination template has, before the record's fields and the parameters. */
const BUILTINS = ['run_id', 'step', 'record', 'batch'] as const;

function range(first: number, last: number): string {
  return first === last ? `record ${first}` : `records ${first}-${last}`;
}

export async function openHttpWriter(
  client: HttpClient,
  config: HttpConfig,
  formats: FormatRegistry,
  spec: DestinationSpec & { request: HttpTargetRequest },
  signal: AbortSignal | undefined,
): Promise<Writer> {
  if (spec.mode !== 'append') {
    throw new AppError(
      'BAD_REQUEST',
      `An http destination sends records; mode ${spec.mode} does not apply (leave mode out)`,
    );
  }
  const req = spec.request;
  const format = formats.bind(spec.format ?? { type: 'json' });
  const params = spec.params ?? {};
  const perRecord = req.send === 'record';
  const success = (status: number) =>
    req.success ? req.success.includes(status) : status >= 200 && status <= 299;

  async function encode(rows: Row[]): Promise<Buffer | string> {
    if (format.type === 'json' && !format.options['pretty']) {
      return perRecord && rows[0]
        ? stringifyJson(rows[0])
        : `[${rows.map((r) => stringifyJson(r)).join(',')}]`;
    }
    const parts: Buffer[] = [];
    for await (const chunk of format.write(oneBatch(rows), { columns: spec.columns })) {
      parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    }
    return Buffer.concat(parts);
  }

  let sent = 0;
  let batches = 0;
  const answers = spec.answers;

  async function send(rows: Row[]): Promise<void> {
    const first = sent + 1;
    const batch = ++batches;
    const builtins: Record<(typeof BUILTINS)[number], unknown> = {
      run_id: spec.run?.id,
      step: spec.run === undefined ? undefined : spec.run.step + 1,
      record: first,
      batch,
    };
    const row = perRecord ? rows[0] : undefined;
    const lookup: Lookup = (name) => {
      if (Object.hasOwn(builtins, name)) return builtins[name as (typeof BUILTINS)[number]];
      if (row && Object.hasOwn(row, name)) return row[name];
      return Object.hasOwn(params, name) ? params[name] : undefined;
    };
    const what = `${range(first, first + rows.length - 1)}${perRecord ? '' : ` (batch ${batch})`}`;
    const where = `${WHERE} for ${what}`;
    const url = buildUrl(config.baseUrl, req.path, req.query, lookup, where);
    const headers = requestHeaders(config, req.headers, lookup, where);
    headers['content-type'] ??= format.format.mediaTypes[0] ?? 'application/octet-stream';
    if (req.idempotencyKey) {
      headers[req.idempotencyHeader.toLowerCase()] = expandHeader(
        req.idempotencyKey,
        lookup,
        `${where}.idempotencyKey`,
      );
    }
    const body = await encode(rows);
    const answer = await client
      .send({ method: req.method, url, headers, body, what }, signal)
      .catch((err: unknown) => {
        throw withSent(err, first);
      });
    if (!success(answer.status)) throw withSent(await failedAnswer(answer, what), first);
    if (answers) {
      const row = await answerRow(answer, answers, first, rows.length, what).catch((err: unknown) => {
        sent += rows.length;
        throw withSent(err, first + rows.length);
      });
      sent += rows.length;
      // Waits when the answers' destination lags; throws when it failed, before the next request.
      await answers.write([row]).catch((err: unknown) => {
        throw withSent(err, first + rows.length);
      });
      return;
    }
    await answer.discard();
    sent += rows.length;
  }

  /** The failure, with what was sent before it, since that stays sent. */
  function withSent(err: unknown, first: number): unknown {
    if (!(err instanceof AppError) || err.code === 'RUN_CANCELLED') return err;
    const before =
      first > 1
        ? `; ${range(1, first - 1)} were sent before it and stay sent`
        : '; nothing was sent before it';
    return new AppError(err.code, `${err.message}${before}`, { cause: err });
  }

  return {
    async write(rows) {
      const size = perRecord ? 1 : req.batchSize;
      for (let i = 0; i < rows.length; i += size) await send(rows.slice(i, i + size));
    },
    async commit() {
      return { rowsWritten: sent };
    },
    async rollback() {
      // Nothing can be taken back; leftBehind says what stays.
    },
    leftBehind() {
      return sent > 0
        ? `${sent} record${sent === 1 ? ' was' : 's were'} sent to the API before the failure and stay sent (an HTTP API cannot roll back)`
        : undefined;
    },
  };
}
