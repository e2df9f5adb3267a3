import { definitionRoutes } from '../definitions/definition-routes.js';
import type { FeatureModule } from '../server/feature-module.js';
import { webhookKind } from './webhook-kind.js';
import type { WebhookNotifier } from './webhook-notifier.js';

/** Run notifications: webhook definitions and routes, and the notifier in every process that runs flows. */
export function notificationsModule(): FeatureModule {
  let started: WebhookNotifier | undefined;
  return {
    name: 'notifications',
    async init(ctx) {
      // Synchronous runs finish in api processes too, so every role notifies.
      started = ctx.notifier;
      started.start();
    },
    routes(app, ctx) {
      definitionRoutes(app, ctx, webhookKind);
    },
    async stop() {
      started?.stop();
    },
  };
}
