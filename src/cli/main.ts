import { Command } from 'commander';
import { auditCommand } from './commands/audit.js';
import { startCommand } from './commands/start.js';
import { userCommand } from './commands/user.js';

/** The `integrator` command line. Every command reads the same INTEGRATOR_* settings as the server. */
export function buildCli(): Command {
  const program = new Command('integrator')
    .description('Integrator: a self-hosted data integration server')
    .version('0.1.0')
    .showHelpAfterError();
  program.addCommand(startCommand());
  program.addCommand(userCommand());
  program.addCommand(auditCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildCli().parseAsync(argv);
}
