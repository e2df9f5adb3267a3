import { connectionRoutes } from '../connections/connection-routes.js';
import { moveIntoFileRoots } from '../connections/file-roots-upgrade.js';
import type { Context } from '../context.js';
import { definitionRoutes } from '../definitions/definition-routes.js';
import { projectRoutes } from '../definitions/project-routes.js';
import { createDemoProject } from '../demo/demo-project.js';
import type { FeatureModule } from '../server/feature-module.js';

/**
 * Connections, flows and projects (their definitions APIs), plus the demo project on first start and,
 * for a data directory from before file roots, its connections moved into them.
 */
export function flowsModule(): FeatureModule {
  return {
    name: 'flows',
    async init(ctx: Context) {
      await moveIntoFileRoots(ctx);
      if (ctx.settings.demo && (await createDemoProject(ctx))) ctx.logger.info('created the demo project');
    },
    routes(app, ctx) {
      definitionRoutes(app, ctx, ctx.definitions.kind('connection'));
      connectionRoutes(app, ctx);
      definitionRoutes(app, ctx, ctx.definitions.kind('flow'));
      projectRoutes(app, ctx);
    },
  };
}
