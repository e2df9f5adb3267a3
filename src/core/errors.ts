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

/**
 * Every code and its HTTP status. 4xx codes are the caller's to fix (a request, a definition, a payload
 * that cannot land: 400 when it cannot be read at all, 422 when it is well-formed but does not fit);
 * 5xx codes are the server's or a target's fault. Code that reacts to an error looks at its code, never
 * at its message.
 */
export const ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  INVALID_PAYLOAD: 400,
  /** A record has a field the target table lacks. */
  UNKNOWN_FIELD: 422,
  /** A value does not fit its target column (type, range, length, encoding). */
  INVALID_VALUE: 422,
  /** A record breaks a target constraint (not null, unique, check, foreign key). */
  CONSTRAINT_VIOLATION: 422,
  /** The records have no fields at all, so there is no column to write. */
  NO_COLUMNS: 422,
  /** A definition names a connection or flow that does not exist. */
  REFERENCE_NOT_FOUND: 422,
  /** A pipeline reaches itself, directly or through other pipelines. */
  REFERENCE_CYCLE: 422,
  /** Pipelines nested deeper than the limit at run time (a cycle that bypassed the save check). */
  PIPELINE_TOO_DEEP: 422,
  /**
   * A connection names a local path it may not use: outside INTEGRATOR_FILE_ROOTS, or one of the data
   * directory's own files (the metadata store, the server secret).
   */
  PATH_NOT_ALLOWED: 422,
  /** A definition cannot be deleted while others name it. */
  STILL_REFERENCED: 409,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  PARAMETER_INVALID: 400,
  /** A file whose name a caller's parameter gave does not exist (a data API asked for a missing file). */
  PARAMETER_NOT_FOUND: 404,
  FORMAT_ERROR: 400,
  /** A connection's endpoint cannot be reached or refuses the credentials. */
  CONNECTION_FAILED: 503,
  /** An HTTP API answered with a status the step does not accept, or a body larger than allowed. */
  HTTP_ERROR: 502,
  /** A message broker refused a message (a nack, an unroutable message, a full stream). */
  BROKER_REFUSED: 502,
  FLOW_FAILED: 500,
  RUN_CANCELLED: 409,
  INTERNAL: 500,
  /** A setting (INTEGRATOR_* or a command-line option) that cannot be used; the message names it. */
  INVALID_SETTING: 500,
  /** The metadata store cannot be opened or reached. */
  STORE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_NAMES = Object.keys(ERROR_CODES) as readonly string[];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/**
 * Codes that blame the data a run was given (a payload, a parameter, a record that does not fit its
 * target): a caller waiting on such a run gets their status. Any other failure of a run is the server's
 * or a target's (500, or 503 when a target cannot be reached), whatever its code says about a request.
 */
const DATA_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_PAYLOAD',
  'FORMAT_ERROR',
  'PARAMETER_INVALID',
  'PARAMETER_NOT_FOUND',
  'UNKNOWN_FIELD',
  'INVALID_VALUE',
  'CONSTRAINT_VIOLATION',
  'NO_COLUMNS',
]);

/** The HTTP status for a caller whose run failed with `code` (undefined: no code known). */
export function runFailureStatus(code: string | null | undefined): number {
  if (code === 'CONNECTION_FAILED') return 503;
  return code && isErrorCode(code) && DATA_CODES.has(code) ? ERROR_CODES[code] : 500;
}

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
