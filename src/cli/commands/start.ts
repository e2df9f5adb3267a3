import { Command, InvalidArgumentError, Option } from 'commander';
import type { Settings } from '../../config.js';
import { startupFailure } from '../startup-failure.js';
import { holdYoungGeneration } from '../young-generation.js';

function portNumber(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return port;
}

export function startCommand(): Command {
  return new Command('start')
    .description('Start the server (HTTP API, listeners, scheduler and workers)')
    .addOption(new Option('--port <port>', 'port to listen on (INTEGRATOR_PORT)').argParser(portNumber))
    .addOption(new Option('--host <host>', 'address to listen on (INTEGRATOR_HOST)'))
    .addOption(
      new Option(
        '--role <role>',
        'what this process does in a cluster: all, api (HTTP and scheduler) or worker (runs flows) (INTEGRATOR_ROLE, default all)',
      ).choices(['all', 'api', 'worker']),
    )
    .addHelpText(
      'after',
      '\nIf the server cannot start (a malformed setting, the port in use, the store out of reach), one\n' +
        'line on standard error says why and the exit code is 2.',
    )
    .action(async (opts: { port?: number; host?: string; role?: string }) => {
      let settings: Settings | undefined;
      const releaseYoungGeneration = holdYoungGeneration();
      try {
        const { loadSettings, parseRole } = await import('../../config.js');
        settings = loadSettings();
        if (opts.port !== undefined) settings.port = opts.port;
        if (opts.host !== undefined) settings.host = opts.host;
        if (opts.role !== undefined) settings.role = parseRole(opts.role);
        process.env.INTEGRATOR_ROLE = settings.role;
        const { startServer } = await import('../../server/start-server.js');
        const server = await startServer(settings, (line) => process.stdout.write(`${line}\n`));
        releaseYoungGeneration();
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
      } catch (err) {
        process.stderr.write(`integrator: cannot start: ${startupFailure(err, settings)}\n`);
        if (settings?.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
        process.exit(2);
      }
    });
}
