import type { ErrorBody } from './types.js';

/** A refused or failed API call, with the server's error code and field details when it gave them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryValue = string | number | boolean | undefined;

export function withQuery(path: string, query: Record<string, QueryValue> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text === '' ? path : `${path}?${text}`;
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  let body: ErrorBody | undefined;
  try {
    body = text ? (JSON.parse(text) as ErrorBody) : undefined;
  } catch {
    body = undefined;
  }
  const message = body?.error?.message ?? body?.exception ?? (text || `${res.status} ${res.statusText}`);
  return new ApiError(res.status, message, body?.error?.code, body?.error?.details ?? []);
}

/**
 * Calls the REST API of the server that served the console, with the session's bearer token. A 401
 * means the session ended (expired, password changed, user removed): `onUnauthorized` signs out.
 */
export class ApiClient {
  constructor(
    private readonly token: () => string | undefined,
    private readonly onUnauthorized: (message: string) => void,
  ) {}

  headers(): Record<string, string> {
    const token = this.token();
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: {
        ...this.headers(),
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    if (!res.ok) {
      const err = await errorOf(res);
      if (res.status === 401) this.onUnauthorized(err.message);
      throw err;
    }
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, undefined, signal);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}

/** Logs in: the token API answers a token and how many seconds it is valid. */
export async function issueToken(
  login: string,
  password: string,
): Promise<{ token: string; expiresIn: number }> {
  const res = await fetch('/rest/v1/token-auth/issue', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as { token: string; expiresIn: number };
}
