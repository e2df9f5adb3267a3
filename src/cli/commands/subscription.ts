import { Command } from 'commander';
import type { Context } from '../../context.js';
import type { SubscriptionStatus } from '../../subscriptions/subscription-manager.js';
import { cliActor, withContext } from '../cli-context.js';

function print(s: SubscriptionStatus, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${s.name}: ${s.state}${s.paused && s.pausedBy ? ` (paused by ${s.pausedBy})` : ''}\n` +
      `  consumed ${s.consumed}, acked ${s.acked}, failed ${s.failed}, dead-lettered ${s.deadLettered}\n`,
  );
  if (s.lastError) process.stdout.write(`  last error (${s.lastErrorAt}): ${s.lastError}\n`);
  for (const w of s.workers) {
    process.stdout.write(
      `  ${w.worker}: ${w.state}, consumed ${w.consumed}, acked ${w.acked}, failed ${w.failed}, dead-lettered ${w.deadLettered}\n`,
    );
  }
}

export function subscriptionCommand(): Command {
  const sub = new Command('subscription').description(
    'Status, pause and resume of subscriptions (works on the store; the servers of the cluster follow within seconds)',
  );
  sub
    .command('list')
    .description('List subscriptions with their state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const all = await Promise.all(
          (await ctx.definitions.list('subscription')).map((d) => ctx.subscriptions.status(d.name)),
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        else
          for (const s of all)
            process.stdout.write(
              `${s.name}\t${s.state}\tacked ${s.acked}\tfailed ${s.failed}\tdead-lettered ${s.deadLettered}\n`,
            );
      }),
    );
  sub
    .command('status <name>')
    .description('State and counters of a subscription over every process consuming it')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) =>
      withContext(async (ctx) => print(await ctx.subscriptions.status(name), opts.json)),
    );
  const toggle = (verb: 'pause' | 'resume', paused: boolean, description: string) =>
    sub
      .command(`${verb} <name>`)
      .description(description)
      .option('--json', 'print JSON')
      .action(async (name: string, opts: { json?: boolean }) =>
        withContext(async (ctx: Context) =>
          print(await ctx.subscriptions.setPaused(name, paused, cliActor(), null), opts.json),
        ),
      );
  toggle('pause', true, 'Stop consuming a subscription in every process, until resumed');
  toggle('resume', false, 'Consume a paused subscription again');
  return sub;
}
