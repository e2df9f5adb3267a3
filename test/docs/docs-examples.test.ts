/**
 * The documentation's shell examples are tests: every ```sh block in the README and the docs below runs
 * with bash against a real server started from bin/integrator.js, and must exit 0. Examples for features
 * that are not built yet are tagged ```sh-pending and are only checked for style.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer } from '../helpers/server.js';

const repo = resolve(import.meta.dirname, '../..');
const DOCS = [
  'README.md',
  'docs/auth.md',
  'docs/roles.md',
  'docs/audit.md',
  'docs/cli.md',
  'docs/connections.md',
  'docs/flows.md',
  'docs/parameters.md',
  'docs/run-api.md',
  'docs/listeners.md',
  'docs/subscriptions.md',
  'docs/values.md',
];
const ADMIN_PASSWORD = 'docs-admin-password';

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
}

/** Fenced blocks tagged `sh` or `sh-pending`, with the line their code starts on. */
function shellBlocks(file: string): Block[] {
  const lines = readFileSync(join(repo, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let open: { lang: string; line: number; code: string[] } | undefined;
  lines.forEach((text, i) => {
    if (open) {
      if (/^```\s*$/.test(text)) {
        blocks.push({ file, line: open.line, lang: open.lang, code: `${open.code.join('\n')}\n` });
        open = undefined;
      } else {
        open.code.push(text);
      }
      return;
    }
    const fence = /^```(sh|sh-pending)\s*$/.exec(text);
    if (fence?.[1]) open = { lang: fence[1], line: i + 2, code: [] };
    else if (/^```/.test(text) && !/^```\S*( project)?\s*$/.test(text))
      throw new Error(`${file}:${i + 1}: odd fence`);
  });
  if (open) throw new Error(`${file}:${open.line}: unterminated code block`);
  return blocks;
}

const all = DOCS.flatMap(shellBlocks);
const runnable = all.filter((b) => b.lang === 'sh');

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => ok(port));
    });
  });
}

function runBash(
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile('bash', ['-c', script], { env, cwd, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      ok({ code, stdout, stderr });
    });
  });
}

describe('documentation style', () => {
  it('every document has runnable examples', () => {
    for (const file of DOCS) {
      expect(runnable.filter((b) => b.file === file).length, `${file} has no sh example`).toBeGreaterThan(0);
    }
  });

  it('examples use $INTEGRATOR_URL and curl -fsS (or check the status code they expect)', () => {
    for (const b of all) {
      const where = `${b.file}:${b.line}`;
      expect(b.code, `${where}: use $INTEGRATOR_URL, not a fixed address`).not.toMatch(
        /https?:\/\/(localhost|127\.0\.0\.1)/,
      );
      // Join continuation lines so one curl call is one line.
      for (const call of b.code.replace(/\\\n/g, ' ').split('\n')) {
        if (!/\bcurl\s/.test(call)) continue;
        const checked = /\bcurl -fsS\b/.test(call) || /%\{http_code\}/.test(call);
        expect(checked, `${where}: ${call.trim()}`).toBe(true);
        expect(call, `${where}: ${call.trim()}`).toMatch(/\$INTEGRATOR_URL/);
      }
    }
  });
});

describe('documented routes and roles', () => {
  it('docs/roles.md lists every route with the role it requires', async () => {
    const text = readFileSync(join(repo, 'docs/roles.md'), 'utf8');
    // Rows look like: | `GET` | `/rest/v1/users` | admin |
    const documented = new Map<string, string>();
    for (const m of text.matchAll(/^\|\s*`([A-Z]+)`\s*\|\s*`([^`]+)`\s*\|\s*(\w+)/gm)) {
      documented.set(`${m[1]} ${m[2]}`, m[3] ?? '');
    }
    const s = await createTestServer();
    try {
      const actual = new Map(
        s.app.accessTable
          .filter((r) => !r.url.startsWith('/docs'))
          .map((r) => [`${r.method} ${r.url.replace(/:([A-Za-z]+)/g, '{$1}')}`, r.access]),
      );
      for (const [route, access] of actual) {
        expect(documented.get(route), `docs/roles.md: add a row for ${route} (${access})`).toBe(access);
      }
      for (const route of documented.keys()) {
        expect(actual.has(route), `docs/roles.md documents ${route}, which the server does not have`).toBe(
          true,
        );
      }
    } finally {
      await s.close();
    }
  });
});

describe('documentation examples against a running server', () => {
  let server: ChildProcess | undefined;
  let output = '';
  let scratch = '';
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'integrator-docs-'));
    const dataDir = join(scratch, 'data');
    const bin = join(scratch, 'bin');
    const work = join(scratch, 'work');
    mkdirSync(bin);
    mkdirSync(work);
    const shim = join(bin, 'integrator');
    writeFileSync(
      shim,
      `#!/usr/bin/env bash\nexec node ${JSON.stringify(join(repo, 'bin/integrator.js'))} "$@"\n`,
    );
    chmodSync(shim, 0o755);

    // Only the settings chosen here: nothing from the caller's INTEGRATOR_* environment leaks in.
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('INTEGRATOR_')),
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [join(repo, 'bin/integrator.js'), 'start'], {
      cwd: repo,
      env: {
        ...base,
        INTEGRATOR_DATA_DIR: dataDir,
        INTEGRATOR_ADMIN_PASSWORD: ADMIN_PASSWORD,
        INTEGRATOR_PORT: String(port),
        INTEGRATOR_HOST: '127.0.0.1',
        INTEGRATOR_DEMO: 'true',
        INTEGRATOR_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    server.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });

    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`server exited (${server.exitCode}):\n${output}`);
      const up = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      if (Date.now() > deadline) throw new Error(`server did not answer /healthz:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const res = await fetch(`${url}/rest/v1/token-auth/issue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(res.status).toBe(200);
    const { token } = (await res.json()) as { token: string };

    env = {
      ...base,
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      INTEGRATOR_URL: url,
      TOKEN: token,
      ADMIN_PASSWORD,
      INTEGRATOR_DATA_DIR: dataDir,
      INTEGRATOR_LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server?.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  for (const block of runnable) {
    it(`${block.file}:${block.line}`, { timeout: 25_000 }, async () => {
      const r = await runBash(`set -euo pipefail\n${block.code}`, env, join(scratch, 'work'));
      expect(
        r.code,
        `${block.file}:${block.line} exited ${r.code}\n--- script\n${block.code}--- stdout\n${r.stdout}--- stderr\n${r.stderr}`,
      ).toBe(0);
    });
  }
});
