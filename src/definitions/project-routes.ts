import { Type } from '@sinclair/typebox';
import type { Context } from '../context.js';
import { AppError } from '../core/errors.js';
import { actorOf, principalOf } from '../server/access.js';
import type { App } from '../server/app-types.js';
import { authErrors, errorResponses } from '../server/schemas.js';
import {
  applyDocuments,
  exportProject,
  parseProjectYaml,
  projectDocumentSchema,
  toDocument,
} from './project-files.js';

/** Whole-project import and export over HTTP, in the same YAML the CLI reads and writes. */
export function projectRoutes(app: App, ctx: Context): void {
  app.get(
    '/schemas/project-document.json',
    {
      config: { access: 'public' },
      schema: { tags: ['projects'], summary: 'JSON Schema of a project YAML document' },
    },
    async () => projectDocumentSchema(ctx.definitions),
  );

  app.get(
    '/rest/v1/export',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['projects'],
        summary: 'Every definition the caller may read, as YAML documents (secrets masked)',
        produces: ['application/yaml'],
        response: { 200: Type.String(), ...authErrors },
      },
    },
    async (request, reply) => {
      void reply.type('application/yaml; charset=utf-8');
      return exportProject(ctx.definitions, { role: principalOf(request).role });
    },
  );

  // Its own scope, so the YAML body parser applies to this route only.
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      ['application/yaml', 'application/x-yaml', 'text/yaml'],
      { parseAs: 'string', bodyLimit: 8 * 1024 * 1024 },
      (_req, body, done) => done(null, body),
    );
    scope.post(
      '/rest/v1/apply',
      {
        config: { access: 'editor' },
        bodyLimit: 8 * 1024 * 1024,
        schema: {
          tags: ['projects'],
          summary: 'Create or update definitions from YAML documents (or a JSON array of them)',
          description:
            'All documents are validated first; when any is invalid nothing is written. Unchanged definitions are left alone.',
          response: {
            200: Type.Array(
              Type.Object({
                kind: Type.String(),
                name: Type.String(),
                action: Type.String(),
                version: Type.Integer(),
              }),
            ),
            ...authErrors,
            ...errorResponses(413, 422),
          },
        },
      },
      async (request) => {
        const body: unknown = request.body;
        const docs =
          typeof body === 'string'
            ? parseProjectYaml(body, 'request body')
            : Array.isArray(body)
              ? body.map((d: unknown, i) => toDocument(d, `request body item ${i + 1}`))
              : (() => {
                  throw new AppError(
                    'BAD_REQUEST',
                    'Send YAML (application/yaml) or a JSON array of documents',
                  );
                })();
        return applyDocuments(ctx.definitions, ctx.audit, docs, actorOf(request));
      },
    );
  });
}
