import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ListenerSpec } from './listener-schema.js';

/**
 * Adds CORS headers when the request's Origin is one the listener allows. Returns whether it is allowed;
 * without an Origin header (not a browser) nothing is added.
 */
export function applyCors(request: FastifyRequest, reply: FastifyReply, spec: ListenerSpec): boolean {
  const origin = request.headers.origin;
  const allowed = spec.cors?.origins ?? [];
  if (!origin || !(allowed.includes('*') || allowed.includes(origin))) return false;
  void reply.header('access-control-allow-origin', allowed.includes('*') ? '*' : origin);
  void reply.header('vary', 'Origin');
  void reply.header('access-control-expose-headers', 'x-request-id, location');
  return true;
}

/** Answers a CORS preflight: 204 with what the listener allows, or 403 for an origin it does not. */
export function preflight(request: FastifyRequest, reply: FastifyReply, spec: ListenerSpec): FastifyReply {
  if (!applyCors(request, reply, spec)) {
    return reply.code(403).send({
      error: { code: 'FORBIDDEN', message: 'This origin may not call this listener', requestId: request.id },
    });
  }
  return reply
    .code(204)
    .header('access-control-allow-methods', [...spec.methods, 'OPTIONS'].join(', '))
    .header('access-control-allow-headers', 'authorization, content-type, idempotency-key, x-request-id')
    .header('access-control-max-age', '600')
    .send();
}
