import { definitionRoutes } from '../definitions/definition-routes.js';
import type { FeatureModule } from '../server/feature-module.js';
import type { SubscriptionManager } from './subscription-manager.js';
import { subscriptionRoutes } from './subscription-routes.js';

/**
 * Subscriptions: their definitions API, status, pause and resume everywhere the API runs, and their
 * consumers in processes that execute runs (roles `all` and `worker`): competing consumers of one
 * queue or stream, each message processed by one of them.
 */
export function subscriptionsModule(): FeatureModule {
  let started: SubscriptionManager | undefined;
  return {
    name: 'subscriptions',
    async init(ctx) {
      if (ctx.settings.role === 'api') return;
      started = ctx.subscriptions;
      await started.start();
    },
    routes(app, ctx) {
      definitionRoutes(app, ctx, ctx.definitions.kind('subscription'));
      subscriptionRoutes(app, ctx);
    },
    async stop() {
      await started?.stop();
    },
  };
}
