import { connectionKind } from '../connections/connection-kind.js';
import { connectionRoutes } from '../connections/connection-routes.js';
import type { Context } from '../context.js';
import { definitionRoutes } from '../definitions/definition-routes.js';
import { projectRoutes } from '../definitions/project-routes.js';
import { createDemoProject } from '../demo/demo-project.js';
import { EmbeddedQueue } from '../runs/embedded-queue.js';
import { RunSchema, runRoutes } from '../runs/run-routes.js';
import type { FeatureModule } from '../server/modules.js';
import { flowKind } from './flow-kind.js';

/** Connections, flows, runs and the run queue, plus the demo project on first start. */
export function flowsModule(): FeatureModule {
  let queue: EmbeddedQueue | undefined;
  return {
    name: 'flows',
    async init(ctx: Context) {
      if (ctx.settings.demo && (await createDemoProject(ctx))) ctx.logger.info('created the demo project');
      if (process.env.INTEGRATOR_ROLE !== 'api') {
        queue = new EmbeddedQueue(ctx.store, ctx.runs, ctx.logger, ctx.settings.workers);
        await queue.start();
      }
    },
    routes(app, ctx) {
      app.addSchema(RunSchema);
      definitionRoutes(app, ctx, connectionKind);
      connectionRoutes(app, ctx);
      definitionRoutes(app, ctx, flowKind);
      runRoutes(app, ctx);
      projectRoutes(app, ctx);
    },
    async stop() {
      await queue?.stop();
    },
  };
}
