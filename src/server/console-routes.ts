import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './app-types.js';
import { assetName, type ConsoleFile, ConsoleFiles } from './console-files.js';

/**
 * First path segments that belong to the server, never to the console: an unknown path under them is
 * the API's 404, not the console's page. Listener endpoints live under /plugins and /rest.
 */
const SERVER_SEGMENTS = new Set([
  'rest',
  'plugins',
  'docs',
  'metrics',
  'healthz',
  'readyz',
  'openapi.json',
  'assets',
]);

/**
 * The page loads only from this server: scripts and styles from its own origin (Mantine sets inline
 * style attributes), data only from its API. Nothing is fetched from the internet.
 */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

function send(request: FastifyRequest, reply: FastifyReply, file: ConsoleFile, cache: string): FastifyReply {
  void reply
    .header('content-type', file.type)
    .header('cache-control', cache)
    .header('x-content-type-options', 'nosniff');
  if (file.gzipped) {
    void reply.header('vary', 'accept-encoding');
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(file.gzipped);
    }
  }
  return reply.send(file.body);
}

function sendIndex(request: FastifyRequest, reply: FastifyReply, files: ConsoleFiles): FastifyReply {
  const index = files.get('index.html');
  if (!index) {
    return reply
      .code(404)
      .type('text/plain; charset=utf-8')
      .send('The web console is not built: run `npm run build` (or `npm start` in a source checkout).\n');
  }
  void reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
  // The page must be fetched again each time so a new build's asset names are picked up.
  return send(request, reply, index, 'no-cache');
}

/**
 * The web console: the built single-page app at `/`, its hashed assets under `/assets/`, and, for any
 * other browser navigation outside the server's own paths, the same page (the app routes on the client).
 * Returns the fallback the not-found handler calls; it answers false when the request is not the
 * console's, so the API's JSON 404 applies.
 */
export function consoleRoutes(
  app: App,
  files = new ConsoleFiles(),
): (request: FastifyRequest, reply: FastifyReply) => boolean {
  app.get(
    '/',
    {
      config: { access: 'public' },
      schema: {
        tags: ['console'],
        summary: 'The web console (an HTML page; it signs in with the token API)',
        security: [],
      },
    },
    async (request, reply) => sendIndex(request, reply, files),
  );
  app.get(
    '/assets/:file',
    {
      config: { access: 'public' },
      schema: {
        tags: ['console'],
        summary: 'A file of the web console, named by its content hash (cached for good)',
        security: [],
        params: Type.Object({ file: Type.String({ maxLength: 256 }) }),
      },
    },
    async (request, reply) => {
      const name = request.params.file;
      const file = assetName(name) ? files.get(`assets/${name}`) : undefined;
      if (!file) {
        return reply.code(404).type('text/plain; charset=utf-8').send(`No console asset ${name}\n`);
      }
      // Vite names every asset by a hash of its content: a name never changes meaning.
      return send(request, reply, file, 'public, max-age=31536000, immutable');
    },
  );
  return (request, reply) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return false;
    const path = request.url.split('?')[0] ?? '/';
    const first = path.split('/')[1] ?? '';
    if (SERVER_SEGMENTS.has(first)) return false;
    // Only a browser navigation gets the page; an API client asking for JSON gets the JSON 404.
    if (!String(request.headers.accept ?? '').includes('text/html')) return false;
    void sendIndex(request, reply, files);
    return true;
  };
}
