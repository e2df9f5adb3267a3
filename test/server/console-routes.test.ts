/**
 * How the server serves the built web console: the page at `/` and at any client route a browser
 * navigates to, hashed assets cached for good, and never in place of the server's own paths.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleFiles } from '../../src/server/console-files.js';
import { consoleRoutes } from '../../src/server/console-routes.js';
import { createTestServer, type TestServer } from '../helpers/server.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };

describe('web console files', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await createTestServer();
  });
  afterAll(() => s.close());

  it('serves the built page at / without caching it, gzipped when asked', async () => {
    const res = await s.app.inject({ url: '/', headers: { ...HTML, 'accept-encoding': 'gzip' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    const plain = await s.app.inject({ url: '/' });
    expect(plain.body).toMatch(
      /<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/,
    );
  });

  it('serves hashed assets as immutable, and a missing one as 404', async () => {
    const page = (await s.app.inject({ url: '/' })).body;
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page)?.[1] ?? '';
    const res = await s.app.inject({ url: script, headers: { 'accept-encoding': 'gzip' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-encoding']).toBe('gzip');
    const missing = await s.app.inject({ url: '/assets/index-nothere.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['cache-control']).toBeUndefined();
    const outside = await s.app.inject({ url: '/assets/..%2Findex.html' });
    expect(outside.statusCode).toBe(404);
  });

  it('answers a browser navigation to a client route with the page', async () => {
    for (const url of ['/flows', '/flows/my-flow', '/runs?status=failed', '/sign-in']) {
      const res = await s.app.inject({ url, headers: HTML });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toBe('text/html; charset=utf-8');
    }
  });

  it('never answers the server’s own paths with the page', async () => {
    for (const url of [
      '/rest/v1/nothing',
      '/plugins/flows/rest/v1/nothing',
      '/plugins/schedules/rest/v1/httplistener/no/such/listener',
      '/rest/v1/httplistener/nothing',
      '/docs/nothing',
      '/metrics/x',
      '/healthz/x',
      '/assets/',
    ]) {
      const res = await s.app.inject({ url, headers: HTML });
      expect(res.headers['content-type'], url).not.toMatch(/text\/html/);
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
    }
    expect((await s.app.inject({ url: '/healthz', headers: HTML })).json()).toEqual({ status: 'ok' });
    // An API client asking for JSON at an unknown path gets the API's 404, not the page.
    const json = await s.app.inject({ url: '/flows', headers: { accept: 'application/json' } });
    expect(json.statusCode).toBe(404);
    expect(json.json().error.code).toBe('NOT_FOUND');
    const post = await s.app.inject({ method: 'POST', url: '/flows', headers: HTML });
    expect(post.statusCode).toBe(404);
  });
});

describe('console files on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'integrator-console-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads index.html again after a rebuild and says when nothing is built', async () => {
    const files = new ConsoleFiles(dir);
    expect(files.built).toBe(false);
    const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
    const fallback = consoleRoutes(app, files);
    app.setNotFoundHandler((request, reply) => {
      if (!fallback(request, reply)) void reply.code(404).send('api 404');
    });
    const missing = await app.inject({ url: '/' });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('npm run build');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<p>one</p>');
    utimesSync(join(dir, 'index.html'), new Date(1000), new Date(1000));
    expect((await app.inject({ url: '/runs', headers: HTML })).body).toBe('<p>one</p>');
    writeFileSync(join(dir, 'index.html'), '<p>two</p>');
    expect((await app.inject({ url: '/' })).body).toBe('<p>two</p>');
    await app.close();
  });
});
