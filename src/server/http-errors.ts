import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode, type ErrorDetail } from '../core/errors.js';

/** The one error body of the whole API. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[]; requestId?: string };
}

interface ValidationItem {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function validationDetails(items: ValidationItem[], context: string | undefined): ErrorDetail[] {
  return items.map((v) => {
    const missing = v.params?.['missingProperty'];
    const extra = v.params?.['additionalProperty'];
    let path = v.instancePath || '';
    if (typeof missing === 'string') path += `/${missing}`;
    if (typeof extra === 'string') path += `/${extra}`;
    return { path: `${context ?? 'body'}${path || '/'}`, message: v.message ?? 'is not valid' };
  });
}

/** Maps anything thrown in a request onto a status and the error body. */
export function toAppError(err: unknown, debug: boolean): AppError {
  if (err instanceof AppError) return err;
  const fe = err as Partial<FastifyError> & { validation?: ValidationItem[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const details = validationDetails(fe.validation, fe.validationContext);
    const first = details[0];
    return new AppError(
      'VALIDATION_FAILED',
      first ? `${first.path}: ${first.message}` : 'Request is not valid',
      {
        details,
      },
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'Request body is larger than this endpoint accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Content-Type is not supported here; send application/json',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('BAD_REQUEST', 'Request body is empty; send a JSON document');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('BAD_REQUEST', `Request body is not valid JSON: ${fe.message ?? ''}`);
  }
  if (err instanceof SyntaxError)
    return new AppError('BAD_REQUEST', `Request body is not valid JSON: ${err.message}`);
  const status = fe.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 401
        ? 'UNAUTHORIZED'
        : status === 403
          ? 'FORBIDDEN'
          : status === 404
            ? 'NOT_FOUND'
            : status === 405
              ? 'METHOD_NOT_ALLOWED'
              : status === 413
                ? 'PAYLOAD_TOO_LARGE'
                : status === 415
                  ? 'UNSUPPORTED_MEDIA_TYPE'
                  : status === 429
                    ? 'TOO_MANY_REQUESTS'
                    : 'BAD_REQUEST';
    return new AppError(code, fe.message ?? 'Bad request');
  }
  const message =
    debug && err instanceof Error ? `Internal error: ${err.stack ?? err.message}` : 'Internal error';
  return new AppError('INTERNAL', message, { cause: err });
}

export function sendError(reply: FastifyReply, request: FastifyRequest, err: AppError): FastifyReply {
  if (err.headers) void reply.headers(err.headers);
  const body: ErrorBody = { error: { code: err.code, message: err.message, requestId: request.id } };
  if (err.details) body.error.details = err.details;
  return reply.code(err.status).send(body);
}
