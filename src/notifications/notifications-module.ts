import type { Context } from '../context.js';
import { definitionRoutes } from '../definitions/definition-routes.js';
import type { FeatureModule } from '../server/feature-module.js';
import { webhookKind } from './webhook-kind.js';
import { WebhookNotifier } from './webhook-notifier.js';

/** Run notifications: webhook definitions and routes, and the notifier in every process that runs flows. */
export function notificationsModule(): FeatureModule {
  let notifier: WebhookNotifier | undefined;
  return {
    name: 'notifications',
    async init(ctx: Context) {
      // Synchronous runs finish in api processes too, so every role notifies.
      notifier = new WebhookNotifier(ctx.definitions, ctx.runs, ctx.audit, ctx.logger);
      notifier.start();
    },
    routes(app, ctx) {
      definitionRoutes(app, ctx, webhookKind);
    },
    async stop() {
      notifier?.stop();
    },
  };
}
