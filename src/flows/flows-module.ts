import { connectionKind } from '../connections/connection-kind.js';
import { connectionRoutes } from '../connections/connection-routes.js';
import type { Context } from '../context.js';
import { definitionRoutes } from '../definitions/definition-routes.js';
import { projectRoutes } from '../definitions/project-routes.js';
import { createDemoProject } from '../demo/demo-project.js';
import { createRunQueue } from '../runs/queue/create-queue.js';
import type { RunQueue } from '../runs/queue/run-queue.js';
import { RunRecovery } from '../runs/queue/run-recovery.js';
import { runRoutes } from '../runs/run-routes.js';
import { runStatsRoutes } from '../runs/run-stats-routes.js';
import { RunSchema } from '../runs/run-types.js';
import type { FeatureModule } from '../server/modules.js';
import { flowKind } from './flow-kind.js';

/**
 * Connections, flows, runs and the run queue, plus the demo project on first start. Every role queues
 * runs and recovers interrupted ones; roles `all` and `worker` also execute them.
 */
export function flowsModule(): FeatureModule {
  let queue: RunQueue | undefined;
  let recovery: RunRecovery | undefined;
  return {
    name: 'flows',
    async init(ctx: Context) {
      if (ctx.settings.demo && (await createDemoProject(ctx))) ctx.logger.info('created the demo project');
      const q = createRunQueue(ctx);
      queue = q;
      ctx.runQueue = q;
      ctx.runs.onQueued = (run, delayMs) => {
        q.submit(run, delayMs).catch((err: unknown) =>
          ctx.logger.warn(
            { err, runId: run.id },
            'offering a queued run to the workers failed; it is re-offered later',
          ),
        );
      };
      recovery = new RunRecovery(ctx.store, ctx.runs, ctx.engine, ctx.logger, ctx.settings.runLeaseSeconds);
      await recovery.start(ctx.store.dialect === 'sqlite');
      if (ctx.settings.role !== 'api') await q.startWorkers();
    },
    routes(app, ctx) {
      app.addSchema(RunSchema);
      definitionRoutes(app, ctx, connectionKind);
      connectionRoutes(app, ctx);
      definitionRoutes(app, ctx, flowKind);
      if (queue) runStatsRoutes(app, ctx, queue);
      runRoutes(app, ctx);
      projectRoutes(app, ctx);
    },
    async stop() {
      recovery?.stop();
      await queue?.stop();
    },
  };
}
