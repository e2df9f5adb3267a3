import { Command } from 'commander';
import { auditCommand } from './commands/audit.js';
import { applyCommand, exportCommand, schemaCommand } from './commands/project.js';
import { connectionsCommand, runCommand } from './commands/run.js';
import { startCommand } from './commands/start.js';
import { subscriptionCommand } from './commands/subscription.js';
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
  program.addCommand(runCommand());
  program.addCommand(subscriptionCommand());
  program.addCommand(applyCommand());
  program.addCommand(exportCommand());
  program.addCommand(connectionsCommand());
  program.addCommand(schemaCommand());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  await buildCli().parseAsync(argv);
}
