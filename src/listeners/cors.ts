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

/**
 * Whether the request comes from a web page of an origin the listener does not allow (not its own
 * host). Such a call is refused before anything runs: without this a plain GET or a simple POST from
 * any page would still run the flow, and a client that ignores CORS would read the answer.
 */
export function originRefused(request: FastifyRequest, spec: ListenerSpec): boolean {
  const origin = request.headers.origin;
  if (!origin) return false;
  const allowed = spec.cors?.origins ?? [];
  if (allowed.includes('*') || allowed.includes(origin)) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
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
