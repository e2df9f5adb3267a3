/**
 * How an HTTP connection's requests authenticate. Each auth type adds its header or query parameter to
 * a request about to be sent; OAuth 2.0 client credentials keeps one access token per connection,
 * fetched when first needed, refreshed before it expires and once when the API answers 401.
 */
import { AppError } from '../../core/errors.js';
import type { HttpConfig } from './http-config.js';

/** A token endpoint exchange: the connector's client sends it (TLS settings, timeout, retries apply). */
export type TokenPost = (
  url: string,
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal | undefined,
) => Promise<{ status: number; text: string }>;

export interface HttpAuth {
  /** Adds credentials to a request's headers and URL (the URL shown in messages is taken before). */
  apply(headers: Record<string, string>, url: URL, signal: AbortSignal | undefined): Promise<void>;
  /** The API answered 401: forget the credentials that may have expired; true when a retry may help. */
  rejected(): boolean;
}

/** Seconds before expiry a token is replaced: a tenth of its life, between 1 and 60 s. */
function refreshMargin(lifetime: number): number {
  return Math.min(60, Math.max(1, lifetime / 10));
}

/** RFC 6749 2.3.1: client id and secret are form-encoded before they go into Basic credentials. */
function formEncode(text: string): string {
  return encodeURIComponent(text).replace(/%20/g, '+');
}

class OAuthClientCredentials implements HttpAuth {
  private token: { value: string; type: string; refreshAt: number } | undefined;
  private pending: Promise<{ value: string; type: string; refreshAt: number }> | undefined;

  constructor(
    private readonly config: HttpConfig,
    private readonly post: TokenPost,
  ) {}

  async apply(headers: Record<string, string>, _url: URL, signal: AbortSignal | undefined): Promise<void> {
    const token = await this.current(signal);
    headers.authorization = `${token.type} ${token.value}`;
  }

  rejected(): boolean {
    if (!this.token) return false;
    this.token = undefined;
    return true;
  }

  private current(signal: AbortSignal | undefined) {
    const t = this.token;
    if (t && Date.now() < t.refreshAt) return Promise.resolve(t);
    // Concurrent requests share one fetch.
    if (!this.pending) {
      this.pending = this.fetchToken(signal).finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async fetchToken(signal: AbortSignal | undefined) {
    const c = this.config;
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (c.scope) form.set('scope', c.scope);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    const id = c.clientId ?? '';
    const secret = c.clientSecret ?? '';
    if (c.clientAuth === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}`;
    } else {
      form.set('client_id', id);
      form.set('client_secret', secret);
    }
    const url = c.tokenUrl ?? '';
    const res = await this.post(url, headers, form.toString(), signal);
    const refused = (why: string) => new AppError('CONNECTION_FAILED', `OAuth token endpoint ${url} ${why}`);
    if (res.status < 200 || res.status > 299) {
      throw refused(`answered ${res.status}: ${res.text.slice(0, 300)}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw refused('did not answer JSON');
    }
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const value = fields['access_token'];
    if (typeof value !== 'string' || value === '') throw refused('answered without an access_token');
    const rawType = typeof fields['token_type'] === 'string' ? fields['token_type'] : 'Bearer';
    // RFC 6750 names the scheme Bearer; some servers answer "bearer", which strict APIs refuse.
    const type = rawType.toLowerCase() === 'bearer' ? 'Bearer' : rawType;
    const expiresIn = Number(fields['expires_in']);
    const lifetime = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600;
    const token = { value, type, refreshAt: Date.now() + (lifetime - refreshMargin(lifetime)) * 1000 };
    this.token = token;
    return token;
  }
}

/** The auth of a connection, built once per connector. */
export function httpAuth(config: HttpConfig, post: TokenPost): HttpAuth {
  switch (config.auth) {
    case 'none':
      return { apply: async () => {}, rejected: () => false };
    case 'basic': {
      const value = `Basic ${Buffer.from(`${config.username ?? ''}:${config.password ?? ''}`).toString('base64')}`;
      return {
        apply: async (headers) => {
          headers.authorization = value;
        },
        rejected: () => false,
      };
    }
    case 'bearer':
      return {
        apply: async (headers) => {
          headers.authorization = `Bearer ${config.token ?? ''}`;
        },
        rejected: () => false,
      };
    case 'api-key': {
      const name = config.apiKeyName;
      const key = config.apiKey ?? '';
      return {
        apply: async (headers, url) => {
          if (config.apiKeyIn === 'query') url.searchParams.set(name, key);
          else headers[name.toLowerCase()] = key;
        },
        rejected: () => false,
      };
    }
    case 'oauth2':
      return new OAuthClientCredentials(config, post);
  }
}
