/**
 * An HTTP API as a transfer step's source: the request the step describes, page after page, each
 * page's body read by a format into record batches as it arrives. Once a page gave a record, the next
 * one is asked while it is read (except with offset pagination). Cursor and next-url pagination hold a
 * page's body (bounded by maxResponseBytes) to read its token, and a small JSON page (its
 * Content-Length at most WHOLE_PAGE_BYTES) is parsed whole, which is quicker.
 */
import { AppError } from '../../core/errors.js';
import { DEFAULT_BATCH_SIZE, type RowStream } from '../../core/records.js';
import type { BoundFormat, FormatRegistry } from '../../formats/format-registry.js';
import { stringifyJson } from '../../formats/json-exact.js';
import type { DecodeOptions } from '../../formats/text-decoder.js';
import type { FormatSpec } from '../connector.js';
import type { HttpAnswer, HttpClient } from './http-client.js';
import type { HttpConfig } from './http-config.js';
import {
  declaredLength,
  nextLink,
  type PageState,
  pageText,
  pageUrlOf,
  parsePage,
  repeated,
  resolveNext,
  tokenText,
  WHOLE_PAGE_BYTES,
} from './http-pages.js';
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
  // JSON without options but the record path: a small page is parsed whole by JSON.parse, which is
  // quicker than scanning it record by record (and a larger one streams).
  const plainJson =
    format.type === 'json' &&
    Object.keys(format.options).every((k) =>
      ['recordPath', 'pretty', 'encoding', 'invalidBytes'].includes(k),
    );
  const encoding = format.options['encoding'];
  const decoding: DecodeOptions = {
    encoding: typeof encoding === 'string' ? encoding : 'utf8',
    invalidBytes: format.options['invalidBytes'] === 'replace' ? 'replace' : 'error',
  };
  const recordPath =
    typeof format.options['recordPath'] === 'string' ? format.options['recordPath'] : undefined;

  const ask = (url: URL, what: string): Promise<HttpAnswer> => {
    const p = client.send(
      { method: req.method, url, headers, ...(body === undefined ? {} : { body }), what },
      signal,
    );
    p.catch(() => undefined);
    return p;
  };

  /**
   * Where the page after this one is, once this page gave records (or came to its end, for offset);
   * undefined when there is none. Throws what would stop the pages (a repeated cursor, a foreign URL).
   */
  const following = (at: PageState, pageUrl: URL, count: number, answer: HttpAnswer, token: unknown) => {
    const source = `page ${at.page} (${answer.where})`;
    const next: PageState = { ...at, page: at.page + 1 };
    switch (pg.type) {
      case 'none':
        return undefined;
      case 'page':
        next.number++;
        return next;
      case 'offset':
        next.offset += count;
        return next;
      case 'cursor': {
        const cursor = tokenText(token, source, pg.path);
        if (cursor === undefined) return undefined;
        if (cursor === at.cursor) throw repeated(source, 'cursor', cursor);
        next.cursor = cursor;
        return next;
      }
      case 'next-url':
      case 'link-header': {
        const link =
          pg.type === 'next-url' ? tokenText(token, source, pg.path) : nextLink(answer.headers['link']);
        if (link === undefined) return undefined;
        const resolved = resolveNext(link, pageUrl, origin, source);
        if (resolved.href === pageUrl.href) throw repeated(source, 'next URL', link);
        next.url = resolved;
        return next;
      }
    }
  };
  const lastPage = (page: number) => pg.maxPages !== undefined && page >= pg.maxPages;

  return (async function* pages(): RowStream {
    let at: PageState | undefined = {
      page: 1,
      url: first,
      number: pg.start ?? 1,
      offset: pg.start ?? 0,
      cursor: undefined,
    };
    /**
     * The next page, asked while this one is still being read and written: once a page gave a record,
     * the one after it is asked in any case (page numbers, a Link header, a cursor or next URL already
     * parsed), so asking early sends no request the pages would not send. Not for offset, which moves
     * by the count of the whole page.
     */
    let ahead: { href: string; answer: Promise<HttpAnswer> } | undefined;
    const lookAhead = (state: PageState, pageUrl: URL, answer: HttpAnswer, token: unknown) => {
      if (ahead || pg.type === 'offset' || lastPage(state.page)) return;
      let next: PageState | undefined;
      try {
        next = following(state, pageUrl, 1, answer, token);
      } catch {
        return; // The page's end says why, in order.
      }
      if (!next) return;
      const url = pageUrlOf(next, pg);
      ahead = { href: url.href, answer: ask(url, `page ${next.page}`) };
    };
    try {
      while (at) {
        signal?.throwIfAborted();
        const state: PageState = at;
        const pageUrl = pageUrlOf(state, pg);
        const what = `page ${state.page}`;
        const early: { href: string; answer: Promise<HttpAnswer> } | undefined = ahead;
        ahead = undefined;
        if (early && early.href !== pageUrl.href)
          void early.answer.then(
            (a) => a.discard(),
            () => undefined,
          );
        const answer = await (early?.href === pageUrl.href ? early.answer : ask(pageUrl, what));
        if (answer.status < 200 || answer.status > 299) throw await failedAnswer(answer, what);
        const source = `${what} (${answer.where})`;
        let count = 0;
        let token: unknown;
        if (bodyToken || (plainJson && declaredLength(answer) <= WHOLE_PAGE_BYTES)) {
          const text = await pageText(answer, decoding, source);
          if (text.trim() !== '') {
            const parsed = parsePage(text, recordPath, pg.path);
            if (parsed) {
              token = parsed.token;
              if (parsed.records.length > 0) lookAhead(state, pageUrl, answer, token);
              for (let i = 0; i < parsed.records.length; i += DEFAULT_BATCH_SIZE) {
                const batch = parsed.records.slice(i, i + DEFAULT_BATCH_SIZE);
                count += batch.length;
                yield batch;
              }
            } else {
              // Not records as expected: the streaming reader says where (or reads what it takes).
              for await (const batch of format.read(oneText(text), {
                source,
                ...(signal ? { signal } : {}),
              })) {
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
              if (count > 0) lookAhead(state, pageUrl, answer, undefined);
              yield batch;
            }
          }
        }
        if (lastPage(state.page)) return;
        if (count === 0 && (pg.stopOnEmptyPage || pg.type === 'page' || pg.type === 'offset')) return;
        at = following(state, pageUrl, count, answer, token);
      }
    } finally {
      // Stopped with a page asked ahead (a failure, a cancel, a consumer that took enough): free it.
      if (ahead)
        void ahead.answer.then(
          (a) => a.discard(),
          () => undefined,
        );
    }
  })();
}
