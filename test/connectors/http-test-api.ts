/**
 * A real HTTP API for the http connector's tests: node:http on a free port, each route a function,
 * every request recorded (method, URL, headers, body).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { freePort } from '../helpers/processes.js';

export interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Route = (req: Seen, res: ServerResponse) => void | Promise<void>;

export interface TestApi {
  url: string;
  seen: Seen[];
  /** Requests whose path is `path`. */
  to(path: string): Seen[];
  route(path: string, handler: Route): void;
  close(): Promise<void>;
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startTestApi(): Promise<TestApi> {
  const routes = new Map<string, Route>();
  const seen: Seen[] = [];
  const port = await freePort();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      const s: Seen = {
        method: req.method ?? '',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(s);
      const handler = routes.get(url.pathname);
      if (!handler) return json(res, 404, { error: `no route ${url.pathname}` });
      Promise.resolve(handler(s, res)).catch((err: unknown) => {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    to: (path) => seen.filter((s) => s.url.pathname === path),
    route: (path, handler) => routes.set(path, handler),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
