import { Command, Option } from 'commander';
import { loadSettings, parseRole } from '../../config.js';
import { startServer } from '../../server/start-server.js';

export function startCommand(): Command {
  return new Command('start')
    .description('Start the server (HTTP API, listeners, scheduler and workers)')
    .addOption(new Option('--port <port>', 'port to listen on (INTEGRATOR_PORT)').argParser((v) => Number(v)))
    .addOption(new Option('--host <host>', 'address to listen on (INTEGRATOR_HOST)'))
    .addOption(
      new Option(
        '--role <role>',
        'what this process does in a cluster: all, api (HTTP and scheduler) or worker (runs flows) (INTEGRATOR_ROLE, default all)',
      ).choices(['all', 'api', 'worker']),
    )
    .action(async (opts: { port?: number; host?: string; role?: string }) => {
      const settings = loadSettings();
      if (opts.port !== undefined) settings.port = opts.port;
      if (opts.host !== undefined) settings.host = opts.host;
      if (opts.role !== undefined) settings.role = parseRole(opts.role);
      process.env.INTEGRATOR_ROLE = settings.role;
      const server = await startServer(settings, (line) => process.stdout.write(`${line}\n`));
      const shutdown = (signal: string) => {
        server.ctx.logger.info({ signal }, 'shutting down');
        server.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            server.ctx.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
}
