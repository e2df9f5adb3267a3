/**
 * Every ```yaml project block in docs/ is a complete project: this test applies it (with PG_URL pointing
 * at a throw-away database) and runs the flows its `# run:` line names, which must succeed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDocuments, parseProjectYaml } from '../../src/definitions/project-files.js';
import { createTestServer, type TestServer } from '../helpers/server.js';
import { createPgDatabase } from '../services.js';

const repo = join(import.meta.dirname, '..', '..');

interface Example {
  file: string;
  line: number;
  yaml: string;
  run: string[];
}

function examples(): Example[] {
  const out: Example[] = [];
  for (const name of readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const file = `docs/${name}`;
    const lines = readFileSync(join(repo, file), 'utf8').split('\n');
    let open: { line: number; body: string[] } | undefined;
    lines.forEach((text, i) => {
      if (open) {
        if (/^```\s*$/.test(text)) {
          const yaml = open.body.join('\n');
          const run =
            /^# run: (.+)$/m
              .exec(yaml)?.[1]
              ?.split(',')
              .map((s) => s.trim()) ?? [];
          out.push({ file, line: open.line, yaml, run });
          open = undefined;
        } else open.body.push(text);
      } else if (/^```yaml project\s*$/.test(text)) open = { line: i + 2, body: [] };
    });
  }
  return out;
}

describe('complete YAML examples in docs/', () => {
  let s: TestServer;
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  beforeAll(async () => {
    s = await createTestServer();
    db = await createPgDatabase('docs_yaml');
  });
  afterAll(async () => {
    await s.close();
    await db.drop();
  });

  const all = examples();
  it('finds examples in the connection, flow, parameter, format and transform pages', () => {
    const files = new Set(all.map((e) => e.file));
    for (const f of [
      'docs/connections.md',
      'docs/flows.md',
      'docs/parameters.md',
      'docs/formats.md',
      'docs/transforms.md',
    ]) {
      expect(files, `${f} needs a complete \`\`\`yaml project example`).toContain(f);
    }
    for (const e of all) expect(e.run.length, `${e.file}:${e.line} needs a "# run:" line`).toBeGreaterThan(0);
  });

  it.each(all.map((e) => [`${e.file}:${e.line}`, e] as const))('%s applies and runs', async (_label, e) => {
    const docs = parseProjectYaml(e.yaml, `${e.file}:${e.line}`, { PG_URL: db.url });
    await applyDocuments(s.ctx.definitions, s.ctx.audit, docs, { name: 'docs-test' });
    for (const flow of e.run) {
      const run = await s.ctx.runs.runSync({ flow, trigger: 'api', requestedBy: 'docs-test' });
      expect(run.error, `${e.file}:${e.line} flow ${flow}`).toBeNull();
      expect(run.status).toBe('succeeded');
    }
  });
});
