import type { Settings } from '../config.js';
import { bootstrapAdmin, type Context, createContext } from '../context.js';
import { buildApp } from './app.js';
import type { App } from './app-types.js';
import { featureModules } from './modules.js';
import { buildWorkerApp } from './worker-app.js';

export interface RunningServer {
  app: App;
  ctx: Context;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts everything one process runs: store, bootstrap admin, features, HTTP. `print` receives the
 * one-time lines a person must see (the generated admin password).
 */
export async function startServer(settings: Settings, print: (line: string) => void): Promise<RunningServer> {
  if (settings.role !== 'all' && !settings.databaseUrl) {
    throw new Error(
      `--role ${settings.role} needs INTEGRATOR_DATABASE_URL: api and worker processes share a PostgreSQL store`,
    );
  }
  const ctx = await createContext(settings);
  const modules = featureModules();
  let app: App;
  let url: string;
  try {
    await bootstrapAdmin(ctx, print);
    for (const m of modules) await m.init?.(ctx);
    // A worker answers probes and metrics only; the API lives in the api processes.
    app =
      settings.role === 'worker'
        ? await buildWorkerApp(ctx)
        : await buildApp(
            ctx,
            modules.flatMap((m) => (m.routes ? [m.routes] : [])),
          );
    url = await app.listen({ port: settings.port, host: settings.host });
  } catch (err) {
    // A server that cannot listen (the port is taken) must not keep claiming queued runs meanwhile.
    for (const m of [...modules].reverse()) await m.stop?.().catch(() => undefined);
    await ctx.close().catch(() => undefined);
    throw err;
  }
  const retention = settings.auditRetentionDays;
  const pruneTimer =
    retention > 0
      ? setInterval(() => {
          ctx.audit
            .prune(retention)
            .catch((err: unknown) => ctx.logger.error({ err }, 'audit retention failed'));
        }, 3_600_000)
      : undefined;
  pruneTimer?.unref();
  if (retention > 0) await ctx.audit.prune(retention);
  ctx.logger.info(
    { url, store: ctx.store.location, role: settings.role, queue: ctx.runQueue.transport },
    'Integrator is listening',
  );
  let stopping: Promise<void> | undefined;
  return {
    app,
    ctx,
    url,
    stop() {
      stopping ??= (async () => {
        if (pruneTimer) clearInterval(pruneTimer);
        await app.close();
        for (const m of [...modules].reverse()) await m.stop?.();
        await ctx.close();
      })();
      return stopping;
    },
  };
}
