import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportProject, parseProjectYaml } from '../../src/definitions/project-files.js';
import { ADMIN_PASSWORD, createTestServer, type TestServer } from '../helpers/server.js';
import { PG_ADMIN_URL } from '../services.js';

const PROJECT = `
kind: connection
name: warehouse
type: postgres
url: ${PG_ADMIN_URL.replace('postgres@', 'postgres:s3cret-pw@')}
---
kind: connection
name: inbox
type: files
root: files/inbox
---
kind: flow
name: load-orders
type: transfer
description: Orders from CSV files into the warehouse
parameters:
  day: { type: date, default: "2024-01-01" }
steps:
  - name: orders
    from: { connection: inbox, file: "orders-{day}.csv", format: { type: csv, options: { delimiter: ";" } } }
    transforms:
      - { type: cast, columns: { id: integer } }
      - { type: filter, where: "id > 0" }
    to: { connection: warehouse, table: orders, mode: upsert, keys: [id] }
`;

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`definitions on ${store}`, () => {
    let s: TestServer;
    let editor: { authorization: string };
    beforeAll(async () => {
      s = await createTestServer({ store });
      editor = await s.userWithRole('editor');
    });
    afterAll(() => s.close());

    it('applies YAML, never returns secrets, stores them encrypted, and exports a round trip', async () => {
      const applied = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/apply',
        headers: { ...editor, 'content-type': 'application/yaml' },
        payload: PROJECT,
      });
      expect(applied.statusCode).toBe(200);
      expect(applied.json().map((r: { action: string }) => r.action)).toEqual([
        'created',
        'created',
        'created',
      ]);
      const again = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/apply',
        headers: { ...editor, 'content-type': 'application/yaml' },
        payload: PROJECT,
      });
      expect(again.json().map((r: { action: string }) => r.action)).toEqual([
        'unchanged',
        'unchanged',
        'unchanged',
      ]);

      const conn = await s.app.inject({ url: '/rest/v1/connections/warehouse', headers: editor });
      expect(conn.json().url).toBe('********');
      expect(conn.body).not.toContain('s3cret-pw');
      const raw = await sql<{
        spec: string;
        secrets: string;
      }>`select spec, secrets from definitions where name = 'warehouse'`.execute(s.ctx.store.db);
      expect(JSON.stringify(raw.rows)).not.toContain('s3cret-pw');
      expect(raw.rows[0]?.secrets).toMatch(/^v1\./);

      const exported = await exportProject(s.ctx.definitions);
      expect(exported).not.toContain('s3cret-pw');
      const docs = parseProjectYaml(exported, 'export.yaml');
      expect(docs.map((d) => `${d.kind}/${d.name}`)).toEqual([
        'connection/inbox',
        'connection/warehouse',
        'flow/load-orders',
      ]);
      const original = parseProjectYaml(PROJECT, 'project.yaml');
      expect(docs.find((d) => d.name === 'load-orders')?.spec).toMatchObject(original[2]?.spec ?? {});

      // Re-applying the export (masked secret) keeps the stored secret.
      const reapply = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/apply',
        headers: { ...editor, 'content-type': 'application/yaml' },
        payload: exported,
      });
      expect(reapply.statusCode).toBe(200);
      const resolved = await s.ctx.definitions.resolve<{ url: string }>('connection', 'warehouse');
      expect(resolved.spec.url).toContain('s3cret-pw');
    });

    it('rejects invalid documents with their place and writes none of them', async () => {
      const bad = `${PROJECT}---\nkind: flow\nname: broken\ntype: transfer\nsteps:\n  - from: { connection: inbox, file: a.csv }\n    to: { connection: warehouse, table: t, mode: merge }\n---\nkind: flow\nname: also-new\ntype: sql\nconnection: warehouse\nsql: select 1\n`;
      const res = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/apply',
        headers: { ...editor, 'content-type': 'application/yaml' },
        payload: bad,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details[0].path).toMatch(
        /request body document 4 \(line \d+\) \/steps\/0\/to\/mode/,
      );
      expect((await s.app.inject({ url: '/rest/v1/flows/also-new', headers: editor })).statusCode).toBe(404);
      const yamlError = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/apply',
        headers: { ...editor, 'content-type': 'application/yaml' },
        payload: 'kind: flow\nname: [\n',
      });
      expect(yamlError.statusCode).toBe(400);
      expect(yamlError.json().error.message).toMatch(/line \d+, column \d+/);
    });

    it('validates flows on save: unknown fields, bad expressions and bad names are refused with paths', async () => {
      const post = (payload: object) =>
        s.app.inject({ method: 'POST', url: '/rest/v1/flows', headers: editor, payload });
      const steps = [
        { from: { connection: 'inbox', file: 'a.csv' }, to: { connection: 'warehouse', table: 't' } },
      ];
      const unknownType = await post({ name: 'x', type: 'magic' });
      expect(unknownType.json().error.details[0]).toEqual({
        path: '/type',
        message: 'must be one of transfer, sql, pipeline',
      });
      const extra = await post({ name: 'x', type: 'transfer', steps, colour: 'red' });
      expect(extra.statusCode).toBe(400);
      const badExpr = await post({
        name: 'x',
        type: 'transfer',
        steps: [{ ...steps[0], transforms: [{ type: 'filter', where: 'uper(name) = 1' }] }],
      });
      expect(badExpr.statusCode).toBe(400);
      expect(badExpr.json().error.message).toMatch(/steps\[0\]\.transforms\[0\].*uper/);
      const badName = await post({ name: '../x', type: 'transfer', steps });
      expect(badName.json().error.details[0].path).toBe('/name');
      const viewer = await s.userWithRole('viewer');
      expect(
        (
          await s.app.inject({
            method: 'POST',
            url: '/rest/v1/flows',
            headers: viewer,
            payload: { name: 'v', type: 'transfer', steps },
          })
        ).statusCode,
      ).toBe(403);
      expect((await s.app.inject({ url: '/rest/v1/flows', headers: viewer })).statusCode).toBe(200);
    });

    it('updates with PUT, deletes, and audits each change', async () => {
      const put = await s.app.inject({
        method: 'PUT',
        url: '/rest/v1/flows/tmp',
        headers: editor,
        payload: { type: 'sql', connection: 'warehouse', sql: 'select 1' },
      });
      expect(put.statusCode).toBe(201);
      const put2 = await s.app.inject({
        method: 'PUT',
        url: '/rest/v1/flows/tmp',
        headers: editor,
        payload: { type: 'sql', connection: 'warehouse', sql: 'select 2' },
      });
      expect(put2.json()).toMatchObject({ version: 2, sql: 'select 2' });
      expect(
        (await s.app.inject({ method: 'DELETE', url: '/rest/v1/flows/tmp', headers: editor })).statusCode,
      ).toBe(204);
      expect(
        (await s.app.inject({ method: 'DELETE', url: '/rest/v1/flows/tmp', headers: editor })).statusCode,
      ).toBe(404);
      const admin = await s.login('admin', ADMIN_PASSWORD);
      const events = (await s.app.inject({ url: '/rest/v1/audit?user=editor-user-1', headers: admin })).json()
        .events;
      const actions = events.map((e: { action: string }) => e.action);
      expect(actions).toEqual(
        expect.arrayContaining(['flow.saved', 'flow.deleted', 'project.applied', 'flow.created']),
      );
    });

    it('tests connections and lists their tables', async () => {
      await s.app.inject({
        method: 'PUT',
        url: '/rest/v1/connections/nowhere',
        headers: editor,
        payload: { type: 'postgres', host: '127.0.0.1', port: 1, database: 'x', user: 'x' },
      });
      const bad = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/connections/nowhere/test',
        headers: editor,
      });
      expect(bad.json()).toMatchObject({ ok: false });
      expect(bad.json().message).toMatch(/ECONNREFUSED|connect/i);
      await s.app.inject({
        method: 'PUT',
        url: '/rest/v1/connections/pg',
        headers: editor,
        payload: { type: 'postgres', url: PG_ADMIN_URL },
      });
      const good = await s.app.inject({
        method: 'POST',
        url: '/rest/v1/connections/pg/test',
        headers: editor,
      });
      expect(good.json()).toMatchObject({ ok: true });
      const tables = await s.app.inject({ url: '/rest/v1/connections/pg/tables', headers: editor });
      expect(tables.statusCode).toBe(200);
      expect(Array.isArray(tables.json())).toBe(true);
    });
  });
}
