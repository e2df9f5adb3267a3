import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/auth-service.js';
import { type Role, roleAtLeast } from '../auth/roles.js';
import type { Context } from '../context.js';
import { forbidden, unauthorized } from '../core/errors.js';

/**
 * Who may call a route, declared in the route's `config.access`: `public`, or the lowest role accepted.
 * A route that declares nothing is treated as admin-only, so a forgotten declaration fails closed.
 */
export type Access = Role | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyInstance {
    /** Every route with the access it declares: the role matrix tests and the docs read it. */
    accessTable: RouteAccess[];
  }
}

export interface RouteAccess {
  method: string;
  url: string;
  access: Access;
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

export function actorOf(request: FastifyRequest): { name: string; clientIp: string; role: Role } {
  const principal = principalOf(request);
  return { name: principal.login, clientIp: request.ip, role: principal.role };
}

/** Installs the authentication and role check that runs before every route's handler. */
export function installAccessControl(app: FastifyInstance, ctx: Context): void {
  app.decorateRequest('principal', undefined);
  const table: RouteAccess[] = [];
  app.decorate('accessTable', table);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method !== 'HEAD') table.push({ method, url: route.url, access: route.config?.access ?? 'admin' });
    }
  });
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access ?? 'admin';
    if (access === 'public' || request.is404) return;
    const principal = await ctx.auth.authenticate(
      request.headers.authorization ?? queryAuthorization(request),
    );
    request.principal = principal;
    if (!roleAtLeast(principal.role, access)) {
      await ctx.audit.record({
        action: 'access.denied',
        outcome: 'denied',
        actor: principal.login,
        target: `${request.method} ${request.routeOptions.url ?? request.url}`,
        clientIp: request.ip,
        details: { role: principal.role, required: access },
      });
      throw forbidden(`This needs the ${access} role or higher; you are ${principal.role}`);
    }
  });
}

/**
 * Listener endpoints also accept the credential as an `Authorization` query parameter, for clients that
 * cannot set headers. Only routes that opt in by `config.queryAuth` read it.
 */
function queryAuthorization(request: FastifyRequest): string | undefined {
  if (!request.routeOptions.config?.queryAuth) return undefined;
  const q = request.query;
  if (typeof q !== 'object' || q === null) return undefined;
  const value =
    (q as Record<string, unknown>)['Authorization'] ?? (q as Record<string, unknown>)['authorization'];
  if (typeof value !== 'string' || value === '') return undefined;
  return /^Bearer\s/i.test(value) ? value : `Bearer ${value}`;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    queryAuth?: boolean;
  }
}
