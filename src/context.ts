import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditLog } from './audit/audit-log.js';
import type { ApiKeyService } from './auth/api-keys.js';
import { AuthService } from './auth/auth-service.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { ServerSecret } from './auth/server-secret.js';
import { TokenService } from './auth/tokens.js';
import type { Settings } from './config.js';
import { connectionKind } from './connections/connection-kind.js';
import { ConnectorPool } from './connections/connector-pool.js';
import { FileRoots } from './connectors/file-access.js';
import { CallGauge } from './core/call-gauge.js';
import { createLogger, type Logger } from './core/logger.js';
import { DefinitionService } from './definitions/definition-service.js';
import { SecretBox } from './definitions/secret-box.js';
import { createExtensions, type Extensions } from './extensions.js';
import { FlowEngine } from './flows/flow-engine.js';
import { flowKind } from './flows/flow-kind.js';
import { IdempotencyKeys } from './listeners/idempotency-keys.js';
import { listenerKind, listenerPath } from './listeners/listener-kind.js';
import { ListenerRouter } from './listeners/listener-router.js';
import { listenerSchema } from './listeners/listener-schema.js';
import { PayloadQueue } from './listeners/payload-queue.js';
import { PayloadStore } from './listeners/payload-store.js';
import { webhookKind } from './notifications/webhook-kind.js';
import { WebhookNotifier } from './notifications/webhook-notifier.js';
import { createRunQueue } from './runs/queue/create-queue.js';
import type { RunQueue } from './runs/queue/run-queue.js';
import { RunRecovery } from './runs/queue/run-recovery.js';
import { RunService } from './runs/run-service.js';
import { RunStore } from './runs/run-store.js';
import { ScheduleFires } from './scheduler/schedule-fires.js';
import { scheduleKind } from './scheduler/schedule-kind.js';
import { Scheduler } from './scheduler/scheduler.js';
import type { Store } from './store/database.js';
import { closeStoreServices, openStoreServices } from './store-services.js';
import { subscriptionKind } from './subscriptions/subscription-kind.js';
import { SubscriptionManager } from './subscriptions/subscription-manager.js';
import { SubscriptionStates } from './subscriptions/subscription-states.js';
import type { UserService } from './users/user-service.js';

/**
 * The composition root: every long-lived service, built once per process with its collaborators as
 * constructor arguments, and shared by the HTTP server, the CLI and the workers. Nothing is set on a
 * service after it is built, so feature modules only start and stop what is here, in any order.
 * Nothing here knows about HTTP.
 */
export interface Context {
  settings: Settings;
  logger: Logger;
  /** The formats, transforms, listener auth strategies and connectors this server knows. */
  extensions: Extensions;
  store: Store;
  secret: ServerSecret;
  /** The folders files and SQLite connections may use (INTEGRATOR_FILE_ROOTS). */
  fileRoots: FileRoots;
  audit: AuditLog;
  users: UserService;
  apiKeys: ApiKeyService;
  tokens: TokenService;
  auth: AuthService;
  definitions: DefinitionService;
  connectors: ConnectorPool;
  engine: FlowEngine;
  runs: RunService;
  /** Listener calls in flight in this process (the embedded queue yields to a busy intake). */
  calls: CallGauge;
  /** Where queued runs wait for a worker: BullMQ with INTEGRATOR_REDIS_URL, the store otherwise. */
  runQueue: RunQueue;
  /** Ends or requeues runs whose process died; started by the runs module. */
  recovery: RunRecovery;
  /** The parts of HTTP listeners the run side uses too: async payloads feed queued runs. */
  listeners: { router: ListenerRouter; payloads: PayloadStore; queue: PayloadQueue; keys: IdempotencyKeys };
  /** Fires schedules (started by the scheduler module where the role runs it) and records the fires. */
  schedules: { scheduler: Scheduler; fires: ScheduleFires };
  /** Calls webhooks when runs end; started by the notifications module. */
  notifier: WebhookNotifier;
  /** Consumes subscriptions (started by the subscriptions module where the role executes runs). */
  subscriptions: SubscriptionManager;
  /** Stops the queue and recovery (if started), aborts runs still executing, and closes the store. */
  close(): Promise<void>;
}

export async function createContext(
  settings: Settings,
  logger = createLogger(settings.logLevel),
  options: { pathsBase?: string; extensions?: Extensions } = {},
): Promise<Context> {
  const extensions = options.extensions ?? createExtensions();
  const { store, audit, users, apiKeys } = await openStoreServices(settings, logger);
  const secret = ServerSecret.load(settings);
  const tokens = new TokenService(secret, settings.tokenTtlSeconds);
  const throttle = new LoginThrottle(settings.loginMaxFailures, settings.loginWindowSeconds * 1000);
  const auth = new AuthService(users, tokens, apiKeys, throttle, audit);
  const definitions = new DefinitionService(store, new SecretBox(secret), audit);
  const fileRoots = FileRoots.open(settings);
  const pathsBase = options.pathsBase ?? settings.dataDir;
  definitions.register(connectionKind(extensions.connectors, { roots: fileRoots, dataDir: pathsBase }));
  definitions.register(flowKind(extensions));
  definitions.register(
    listenerKind(extensions, async () =>
      (await definitions.list('listener')).map((d) => ({ name: d.name, path: listenerPath(d.spec) })),
    ),
  );
  const connectors = new ConnectorPool(
    definitions,
    pathsBase,
    logger,
    extensions.connectors,
    extensions.formats,
    fileRoots,
  );
  definitions.register(scheduleKind);
  definitions.register(webhookKind);
  const subscriptionDefinitions = subscriptionKind(extensions, async (name) => {
    const type: unknown = (await definitions.find('connection', name))?.spec['type'];
    return typeof type === 'string' ? type : undefined;
  });
  definitions.register(subscriptionDefinitions);
  const engine = new FlowEngine(definitions, connectors, extensions);
  const calls = new CallGauge();
  const workerId = `${hostname()}:${process.pid}`;
  const runQueue = await createRunQueue({ settings, store, definitions, logger, calls, workerId });
  const router = new ListenerRouter(definitions, logger, listenerSchema(extensions));
  const keys = new IdempotencyKeys(store, settings.idempotencyWindowSeconds * 1000);
  const payloadQueue = new PayloadQueue(store, router, logger, keys);
  const runs = new RunService(new RunStore(store), engine, audit, logger, {
    queue: runQueue,
    io: (run) => payloadQueue.io(run),
    workerId,
    debug: settings.debug,
  });
  const payloads = new PayloadStore(store, runs, audit, keys);
  // A subscription's run has no stored input: its messages went back to the broker, which redelivers
  // them to a new run.
  const recovery = new RunRecovery(store, runs, engine, logger, settings.runLeaseSeconds, (run) =>
    run.trigger === 'subscription' ? 'fail' : payloadQueue.recoveryPolicy(run),
  );
  const fires = new ScheduleFires(store);
  const scheduler = new Scheduler(definitions, fires, runs, audit, logger);
  const notifier = new WebhookNotifier(definitions, runs, audit, logger);
  const subscriptionManager = new SubscriptionManager(
    definitions,
    subscriptionDefinitions,
    new SubscriptionStates(store),
    audit,
    logger,
    { pool: connectors, runs, formats: extensions.formats, audit, logger, workerId },
  );
  return {
    settings,
    logger,
    extensions,
    store,
    secret,
    fileRoots,
    calls,
    audit,
    users,
    apiKeys,
    tokens,
    auth,
    definitions,
    connectors,
    engine,
    runs,
    runQueue,
    recovery,
    listeners: { router, payloads, queue: payloadQueue, keys },
    schedules: { scheduler, fires },
    notifier,
    subscriptions: subscriptionManager,
    async close() {
      // First: its runs end (rolled back) and the unacked messages go back to the brokers.
      await subscriptionManager.stop();
      scheduler.stop();
      notifier.stop();
      recovery.stop();
      payloadQueue.stop();
      // The queue takes no new run from here on; it settles once the runs aborted below have ended.
      const queueStopped = runQueue.stop();
      await runs.stop();
      await queueStopped;
      await connectors.closeAll();
      await closeStoreServices({ audit, store });
    },
  };
}

/**
 * First start: create `admin` with INTEGRATOR_ADMIN_PASSWORD, or with a generated password that is
 * printed once. Does nothing when any user exists.
 */
export async function bootstrapAdmin(ctx: Context, print: (line: string) => void): Promise<void> {
  if ((await ctx.users.count()) > 0) return;
  const generated = ctx.settings.adminPassword === undefined;
  const password = ctx.settings.adminPassword ?? randomBytes(18).toString('base64url');
  try {
    await ctx.users.create({ login: 'admin', password, role: 'admin' }, { name: 'system' });
  } catch (err) {
    // Another process of the cluster won the race; its admin stands.
    if ((await ctx.users.count()) > 0) return;
    throw err;
  }
  if (generated) {
    print(`Created user 'admin' with password: ${password}`);
    print('This password is shown only once. Change it with: integrator user passwd admin');
  }
}
