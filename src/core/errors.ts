/**
 * The error catalog. Every error that reaches a user is an AppError with a stable code, an HTTP status
 * and a message that says what went wrong and where. Lower layers (connectors, formats, the flow engine)
 * throw these without knowing about HTTP; the server maps `status` onto the response.
 */
export interface ErrorDetail {
  /** Where the problem is: a JSON path (`/steps/0/from`), a file and line, a record number. */
  path: string;
  message: string;
}

export const ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  INVALID_PAYLOAD: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  PARAMETER_INVALID: 400,
  FORMAT_ERROR: 400,
  CONNECTION_FAILED: 502,
  FLOW_FAILED: 500,
  RUN_CANCELLED: 409,
  INTERNAL: 500,
  /** A setting (INTEGRATOR_* or a command-line option) that cannot be used; the message names it. */
  INVALID_SETTING: 500,
  /** The metadata store cannot be opened or reached. */
  STORE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;
  /** Extra response headers, e.g. Retry-After on 429. */
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options.details;
    this.headers = options.headers;
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) =>
  new AppError('BAD_REQUEST', message, details ? { details } : {});
export const notFound = (what: string, name: string) =>
  new AppError('NOT_FOUND', `${what} '${name}' does not exist`);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const unauthorized = (message = 'Authentication required: send Authorization: Bearer <token>') =>
  new AppError('UNAUTHORIZED', message);
export const forbidden = (message = 'Your role does not allow this action') =>
  new AppError('FORBIDDEN', message);

/** The message of any thrown value, for logs and run records. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
