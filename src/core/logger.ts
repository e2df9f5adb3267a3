import { type Logger, pino } from 'pino';

export type { Logger };

/** Paths whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.query.Authorization',
  'req.query.authorization',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
];

/** Removes credentials a client put in the query string (listeners accept `?Authorization=`). */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:authorization|token|api_key|apikey|access_token)=)[^&#]*/gi, '$1[redacted]');
}

interface LoggedRequest {
  method?: string;
  url?: string;
  hostname?: string;
  ip?: string;
  id?: string;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // Only what an operator needs; never headers or the raw query string.
      req: (req: LoggedRequest) => ({
        method: req.method,
        url: req.url === undefined ? undefined : redactUrl(req.url),
        host: req.hostname,
        remoteAddress: req.ip,
      }),
    },
    base: { service: 'integrator' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
