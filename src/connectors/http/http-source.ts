/**
 * An HTTP API as a transfer step's source: the request the step describes, page after page, each
 * page's body read by a format into record batches as it arrives. One page is in flight at a time;
 * only cursor and next-url pagination hold a page's body (bounded by maxResponseBytes) to read its
 * token.
 */
import { Decimal } from '../../core/decimal.js';
import { AppError } from '../../core/errors.js';
import { DEFAULT_BATCH_SIZE, type RowStream } from '../../core/records.js';
import type { BoundFormat, FormatRegistry } from '../../formats/format-registry.js';
import { stringifyJson } from '../../formats/json-exact.js';
import { textOf } from '../../formats/text.js';
import type { FormatSpec } from '../connector.js';
import type { HttpAnswer, HttpClient } from './http-client.js';
import type { HttpConfig } from './http-config.js';
import { nextLink, parsePage } from './http-pages.js';
import type { HttpPagination, HttpSourceRequest } from './http-request-schema.js';
import { buildUrl, expandHeader, expandJson, type Lookup } from './http-template.js';

export interface HttpSourceSpec {
  request: HttpSourceRequest;
  format?: FormatSpec;
  params?: Record<string, unknown>;
}

const WHERE = 'from.request';

/** The format the answers are read with, `records` put into its recordPath option. */
function boundFormat(spec: HttpSourceSpec, formats: FormatRegistry): BoundFormat {
  const format = spec.format ?? { type: 'json' };
  const records = spec.request.records;
  if (records === undefined) return formats.bind(format);
  if (format.type !== 'json' && format.type !== 'xml') {
    throw new AppError(
      'VALIDATION_FAILED',
      `${WHERE}.records applies to json and xml answers, not ${format.type}`,
      { details: [{ path: `${WHERE}/records`, message: `not for format ${format.type}` }] },
    );
  }
  return formats.bind({ type: format.type, options: { ...format.options, recordPath: records } });
}

/** Lower-case header names: the connection's, then the step's (expanded), over each other. */
export function requestHeaders(
  config: HttpConfig,
  own: Record<string, string> | undefined,
  lookup: Lookup,
  where: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.headers ?? {})) out[k.toLowerCase()] = v;
  for (const [k, v] of Object.entries(own ?? {}))
    out[k.toLowerCase()] = expandHeader(v, lookup, `${where}.headers.${k}`);
  return out;
}

export async function failedAnswer(answer: HttpAnswer, what: string): Promise<AppError> {
  let text = '';
  try {
    for await (const chunk of answer.body) {
      text += chunk.toString('utf8');
      if (text.length > 300) break;
    }
  } catch {
    // The status says enough.
  }
  text = text.trim().replace(/\s+/g, ' ').slice(0, 300);
  return new AppError(
    'HTTP_ERROR',
    `${what}: ${answer.where} answered ${answer.status}${text ? `: ${text}` : ''}`,
  );
}

async function* oneText(text: string): AsyncGenerator<string> {
  yield text;
}

/** The first bytes of a body; undefined when it is empty (an empty page has no records). */
async function hasBytes(it: AsyncIterator<Buffer>): Promise<Buffer | undefined> {
  for (;;) {
    const r = await it.next();
    if (r.done) return undefined;
    if (r.value.length > 0) return r.value;
  }
}

/** Reads every page of the step's request as record batches. */
export function readHttp(
  client: HttpClient,
  config: HttpConfig,
  formats: FormatRegistry,
  spec: HttpSourceSpec,
  signal: AbortSignal | undefined,
): RowStream {
  const req = spec.request;
  const params = spec.params ?? {};
  const lookup: Lookup = (name) => (Object.hasOwn(params, name) ? params[name] : undefined);
  const format = boundFormat(spec, formats);
  const pg: HttpPagination = req.pagination ?? { type: 'none', stopOnEmptyPage: true };
  const bodyToken = pg.type === 'cursor' || pg.type === 'next-url';
  if (bodyToken && (format.type !== 'json' || !pg.path)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${WHERE}.pagination: ${pg.type} reads ${pg.path ? 'its token from a JSON answer' : 'its token at `path`, which is missing'}`,
      { details: [{ path: `${WHERE}/pagination`, message: `${pg.type} needs path and a json format` }] },
    );
  }
  const first = buildUrl(config.baseUrl, req.path, req.query, lookup, WHERE);
  const origin = new URL(config.baseUrl).origin;
  const headers = requestHeaders(config, req.headers, lookup, WHERE);
  headers.accept ??= format.format.mediaTypes[0] ?? '*/*';
  let body: string | undefined;
  if (req.body !== undefined) {
    body = stringifyJson(expandJson(req.body, lookup, `${WHERE}.body`));
    headers['content-type'] ??= 'application/json';
  }
  const recordPath =
    typeof format.options['recordPath'] === 'string' ? format.options['recordPath'] : undefined;

  return (async function* pages(): RowStream {
    let url = first;
    let number = pg.start ?? 1;
    let offset = pg.start ?? 0;
    let cursor: string | undefined;
    for (let page = 1; ; page++) {
      signal?.throwIfAborted();
      const pageUrl = new URL(url);
      const set = (name: string, value: string | number) => pageUrl.searchParams.set(name, String(value));
      if (pg.type === 'page') {
        set(pg.param ?? 'page', number);
        if (pg.size !== undefined) set(pg.sizeParam ?? 'per_page', pg.size);
      } else if (pg.type === 'offset') {
        set(pg.param ?? 'offset', offset);
        set(pg.sizeParam ?? 'limit', pg.size ?? 100);
      } else {
        // Every page of the other styles asks the same size (a cursor page too, not only the first).
        if (pg.size !== undefined && pg.sizeParam !== undefined) set(pg.sizeParam, pg.size);
        if (pg.type === 'cursor' && cursor !== undefined) set(pg.param ?? 'cursor', cursor);
      }
      const what = `page ${page}`;
      const answer = await client.send(
        { method: req.method, url: pageUrl, headers, ...(body === undefined ? {} : { body }), what },
        signal,
      );
      if (answer.status < 200 || answer.status > 299) throw await failedAnswer(answer, what);
      const source = `${what} (${answer.where})`;
      let count = 0;
      let token: unknown;
      if (bodyToken) {
        const text = await answer.text();
        if (text.trim() !== '') {
          const parsed = parsePage(text, recordPath, pg.path);
          if (parsed) {
            token = parsed.token;
            for (let i = 0; i < parsed.records.length; i += DEFAULT_BATCH_SIZE) {
              const batch = parsed.records.slice(i, i + DEFAULT_BATCH_SIZE);
              count += batch.length;
              yield batch;
            }
          } else {
            // Not records as expected: the streaming reader says where (or reads what it takes).
            for await (const batch of format.read(oneText(text), { source, ...(signal ? { signal } : {}) })) {
              count += batch.length;
              yield batch;
            }
          }
        }
      } else {
        const it = answer.body[Symbol.asyncIterator]();
        const head = await hasBytes(it);
        if (head) {
          const bytes = (async function* () {
            try {
              yield head;
              for (;;) {
                const r = await it.next();
                if (r.done) return;
                yield r.value;
              }
            } finally {
              await it.return?.();
            }
          })();
          for await (const batch of format.read(bytes, { source, ...(signal ? { signal } : {}) })) {
            count += batch.length;
            yield batch;
          }
        }
      }
      if (pg.type === 'none') return;
      if (pg.maxPages !== undefined && page >= pg.maxPages) return;
      if (count === 0 && (pg.stopOnEmptyPage || pg.type === 'page' || pg.type === 'offset')) return;
      switch (pg.type) {
        case 'page':
          number++;
          break;
        case 'offset':
          offset += count;
          break;
        case 'cursor': {
          const next = tokenText(token, source, pg.path);
          if (next === undefined) return;
          if (next === cursor) throw repeated(source, 'cursor', next);
          cursor = next;
          break;
        }
        case 'next-url':
        case 'link-header': {
          const next =
            pg.type === 'next-url' ? tokenText(token, source, pg.path) : nextLink(answer.headers['link']);
          if (next === undefined) return;
          const resolved = resolveNext(next, pageUrl, origin, source);
          if (resolved.href === pageUrl.href) throw repeated(source, 'next URL', next);
          url = resolved;
          break;
        }
      }
    }
  })();
}

function tokenText(token: unknown, source: string, path: string | undefined): string | undefined {
  if (token === undefined || token === null || token === '' || token === false) return undefined;
  if (
    typeof token !== 'string' &&
    typeof token !== 'number' &&
    typeof token !== 'bigint' &&
    !(token instanceof Decimal)
  ) {
    throw new AppError('FORMAT_ERROR', `${source}: the value at ${path} is not text or a number`);
  }
  return textOf(token);
}

function repeated(source: string, what: string, value: string): AppError {
  return new AppError(
    'HTTP_ERROR',
    `${source} answered the same ${what} as the page before (${value.slice(0, 200)}); the pages would never end`,
  );
}

/**
 * The next page's URL, relative ones resolved against the page's. It must stay at the connection's
 * origin: the request carries the connection's credentials.
 */
function resolveNext(next: string, current: URL, origin: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(next, current);
  } catch {
    throw new AppError('FORMAT_ERROR', `${source}: the next page '${next.slice(0, 200)}' is not a URL`);
  }
  if (url.origin !== origin) {
    throw new AppError(
      'HTTP_ERROR',
      `${source}: the next page ${url.origin} is not at the connection's origin ${origin}; its credentials are not sent elsewhere`,
    );
  }
  return url;
}
