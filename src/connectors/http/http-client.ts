/**
 * One HTTP connection's client: an undici Agent with the connection's TLS settings and timeouts, its
 * auth, its pace (RequestLimiter), and retries with exponential backoff and jitter on network errors,
 * 429 and 5xx, honouring Retry-After. Every body it hands out is bounded by maxResponseBytes.
 */
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { Agent, request } from 'undici';
import { AppError, errorMessage } from '../../core/errors.js';
import { cancelledError } from '../abort.js';
import { type HttpAuth, httpAuth } from './http-auth.js';
import type { HttpConfig } from './http-config.js';
import { RequestLimiter, sleep } from './request-limiter.js';

export interface HttpExchange {
  method: string;
  /** The URL without credentials (an API key in the query is added when sent): it is what messages show. */
  url: URL;
  /** Lower-case names. */
  headers: Record<string, string>;
  body?: string | Buffer;
  /** What the request is for, in messages: "page 3", "record 57". */
  what: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** "GET https://…": the request as messages name it. */
  where: string;
  /** The body, decompressed and bounded by maxResponseBytes; reading it (or discard) frees the socket. */
  body: AsyncIterable<Buffer>;
  /** The whole body as text (bounded by maxResponseBytes). */
  text(): Promise<string>;
  discard(): Promise<void>;
}

/** Statuses worth another attempt: the API is overloaded or failing for a moment. */
function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function header(headers: HttpAnswer['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly auth: HttpAuth;
  private readonly limiter: RequestLimiter;

  constructor(private readonly config: HttpConfig) {
    const timeout = Math.round(config.timeout * 1000);
    this.agent = new Agent({
      connect: {
        timeout,
        rejectUnauthorized: config.rejectUnauthorized,
        ...(config.ca ? { ca: config.ca } : {}),
      },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    this.limiter = new RequestLimiter(config.concurrency, config.requestsPerSecond);
    this.auth = httpAuth(config, async (url, headers, body, signal) => {
      const answer = await this.send(
        { method: 'POST', url: new URL(url), headers, body, what: 'OAuth token request' },
        signal,
        false,
      );
      return { status: answer.status, text: await answer.text() };
    });
  }

  /**
   * Sends a request, retrying what may pass on another attempt; answers with any other status (the
   * caller decides what counts as success). Fails with CONNECTION_FAILED when the API cannot be reached
   * (or keeps failing) within the retries, RUN_CANCELLED when the signal aborts.
   */
  async send(x: HttpExchange, signal: AbortSignal | undefined, authenticate = true): Promise<HttpAnswer> {
    const c = this.config;
    const where = `${x.method} ${x.url.href}`;
    const attempts = c.retries + 1;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      const headers = { ...x.headers };
      const url = new URL(x.url);
      let answer: HttpAnswer;
      const release = await this.limiter.acquire(signal);
      try {
        if (authenticate) await this.auth.apply(headers, url, signal);
        const res = await request(url, {
          method: x.method as 'GET',
          headers,
          ...(x.body === undefined ? {} : { body: x.body }),
          dispatcher: this.agent,
          ...(signal ? { signal } : {}),
        });
        // An error after the answer (a reset mid-body) reaches whoever reads the body; until then
        // nobody listens, and an unheard 'error' would end the process.
        res.body.on('error', () => {});
        answer = this.answer(res.statusCode, res.headers, res.body, where, x.what);
      } catch (err) {
        if (signal?.aborted) throw cancelledError();
        if (err instanceof AppError) throw err;
        if (attempt >= attempts) {
          throw new AppError(
            'CONNECTION_FAILED',
            `${x.what}: ${where} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${describe(err)}`,
            { cause: err },
          );
        }
        await sleep(this.backoff(attempt), signal);
        continue;
      } finally {
        // The place is held until the answer's headers: a body read slowly by a step that also writes
        // to this connection must not wait for itself.
        release();
      }
      if (answer.status === 401 && authenticate && !reauthenticated && this.auth.rejected()) {
        reauthenticated = true;
        await answer.discard();
        attempt--;
        continue;
      }
      if (!retryable(answer.status)) return answer;
      const snippet = await errorSnippet(answer);
      if (attempt >= attempts) {
        throw new AppError(
          'CONNECTION_FAILED',
          `${x.what}: ${where} answered ${answer.status} ${attempts} time${attempts === 1 ? '' : 's'}${snippet}`,
        );
      }
      const asked = retryAfterMs(answer.headers['retry-after']);
      const maxMs = c.maxRetryDelay * 1000;
      if (asked !== undefined && asked > maxMs) {
        throw new AppError(
          'CONNECTION_FAILED',
          `${x.what}: ${where} answered ${answer.status} with Retry-After ${header(answer.headers, 'retry-after')}, longer than maxRetryDelay (${c.maxRetryDelay} s)${snippet}`,
        );
      }
      await sleep(asked ?? this.backoff(attempt), signal);
    }
  }

  /** Exponential backoff with jitter: between half and all of retryDelay·2^(n−1), capped. */
  private backoff(attempt: number): number {
    const full = Math.min(this.config.maxRetryDelay, this.config.retryDelay * 2 ** (attempt - 1)) * 1000;
    return full / 2 + (Math.random() * full) / 2;
  }

  private answer(
    status: number,
    headers: HttpAnswer['headers'],
    raw: Readable,
    where: string,
    what: string,
  ): HttpAnswer {
    const limit = this.config.maxResponseBytes;
    const tooLarge = () =>
      new AppError(
        'HTTP_ERROR',
        `${what}: ${where} answered a body larger than maxResponseBytes (${limit} bytes)`,
      );
    const declared = Number(header(headers, 'content-length'));
    let used = false;
    const take = (): AsyncIterable<Buffer> => {
      if (used) throw new Error('an HTTP answer body is read once');
      used = true;
      if (Number.isFinite(declared) && declared > limit) {
        raw.destroy();
        throw tooLarge();
      }
      return bounded(
        decoded(raw, header(headers, 'content-encoding')),
        limit,
        tooLarge,
        () => {
          raw.destroy();
        },
        `${what}: ${where}`,
      );
    };
    return {
      status,
      headers,
      where,
      get body() {
        return take();
      },
      async text() {
        const parts: Buffer[] = [];
        for await (const chunk of take()) parts.push(chunk);
        return Buffer.concat(parts).toString('utf8');
      },
      async discard() {
        if (used) return;
        used = true;
        raw.on('error', () => {});
        raw.resume();
        await new Promise<void>((done) => {
          raw.once('end', done);
          raw.once('close', done);
          raw.once('error', () => done());
        });
      },
    };
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => this.agent.destroy());
  }
}

/** A short piece of an error answer's body for the message, so the API's own words are seen. */
async function errorSnippet(answer: HttpAnswer): Promise<string> {
  try {
    let text = '';
    for await (const chunk of answer.body) {
      text += chunk.toString('utf8');
      if (text.length > 300) break;
    }
    text = text.trim().replace(/\s+/g, ' ');
    return text ? `: ${text.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

function describe(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  const text = `${errorMessage(err)}${cause}`;
  return code && !text.includes(code) ? `${text} [${code}]` : text;
}

/** The body as sent, or decompressed when the server compressed it anyway. */
function decoded(raw: Readable, encoding: string | undefined): Readable {
  const e = encoding?.trim().toLowerCase();
  const z =
    e === 'gzip' || e === 'x-gzip'
      ? createGunzip()
      : e === 'deflate'
        ? createInflate()
        : e === 'br'
          ? createBrotliDecompress()
          : undefined;
  if (!z) return raw;
  const out = new PassThrough();
  // pipeline hands every stream's error to its callback and destroys the others, so none is unheard.
  pipeline(raw, z, out, () => {});
  return out;
}

async function* bounded(
  body: Readable,
  limit: number,
  tooLarge: () => Error,
  destroy: () => void,
  where: string,
): AsyncGenerator<Buffer> {
  let bytes = 0;
  let complete = false;
  try {
    try {
      for await (const chunk of body) {
        const b: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        bytes += b.length;
        if (bytes > limit) throw tooLarge();
        yield b;
      }
      complete = true;
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError(
        'CONNECTION_FAILED',
        `${where}: the answer broke off after ${bytes} bytes: ${describe(err)}`,
        { cause: err },
      );
    }
  } finally {
    if (!complete) {
      body.destroy();
      destroy();
    }
  }
}
