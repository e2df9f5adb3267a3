import { Command } from 'commander';
import { withExistingStore, withStoreServices } from '../cli-context.js';

export function auditCommand(): Command {
  const audit = new Command('audit').description('Inspect the audit trail');
  audit
    .command('verify')
    .description(
      'Recompute the hash chain of the audit trail; exit code 1 if any event was altered or removed, 2 if there is no store',
    )
    .action(async () =>
      withExistingStore(async (ctx) => {
        const result = await ctx.audit.verify();
        if (result.ok) {
          process.stdout.write(`Audit trail intact: ${result.checked} events verified\n`);
        } else {
          process.stdout.write(
            `Audit trail BROKEN at event ${result.brokenAt}: ${result.reason} (${result.checked} events verified before it)\n`,
          );
          process.exitCode = 1;
        }
      }),
    );
  audit
    .command('prune')
    .description('Delete events older than a number of days (the rest of the chain still verifies)')
    .requiredOption('--days <days>', 'keep this many days', (v) => Number.parseInt(v, 10))
    .action(async (opts: { days: number }) =>
      withStoreServices(async (ctx) => {
        if (!Number.isInteger(opts.days) || opts.days < 1)
          throw new Error('--days must be a positive integer');
        const n = await ctx.audit.prune(opts.days);
        process.stdout.write(`Deleted ${n} events older than ${opts.days} days\n`);
      }),
    );
  return audit;
}
