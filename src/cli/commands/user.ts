import { randomBytes } from 'node:crypto';
import { Command, Option } from 'commander';
import { isRole, ROLES, type Role } from '../../auth/role-names.js';
import { cliActor, readStdinLine, withStoreServices } from '../cli-context.js';

async function passwordFrom(opts: {
  password?: string;
  passwordStdin?: boolean;
}): Promise<{ password: string; generated: boolean }> {
  if (opts.passwordStdin) return { password: await readStdinLine(), generated: false };
  if (opts.password !== undefined) return { password: opts.password, generated: false };
  return { password: randomBytes(18).toString('base64url'), generated: true };
}

const passwordOptions = (cmd: Command): Command =>
  cmd
    .option('--password <password>', 'the password (visible in the process list; prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .addHelpText(
      'after',
      '\nWithout --password or --password-stdin a random password is generated and printed once.',
    );

export function userCommand(): Command {
  const user = new Command('user').description(
    'Manage users (works on the store directly; run where the server runs)',
  );

  passwordOptions(
    user
      .command('add <login>')
      .description('Create a user')
      .addOption(new Option('--role <role>', 'the user’s role').choices([...ROLES]).default('operator')),
  ).action(async (login: string, opts: { role: string; password?: string; passwordStdin?: boolean }) =>
    withStoreServices(async (ctx) => {
      const role: Role = isRole(opts.role) ? opts.role : 'operator';
      const { password, generated } = await passwordFrom(opts);
      const created = await ctx.users.create({ login, password, role }, cliActor());
      process.stdout.write(`Created user '${created.login}' with role ${created.role}\n`);
      if (generated) process.stdout.write(`Password (shown once): ${password}\n`);
    }),
  );

  user
    .command('list')
    .description('List users')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) =>
      withStoreServices(async (ctx) => {
        const users = await ctx.users.list();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
          return;
        }
        process.stdout.write(`${'LOGIN'.padEnd(24)} ${'ROLE'.padEnd(9)} STATUS    CREATED\n`);
        for (const u of users) {
          process.stdout.write(
            `${u.login.padEnd(24)} ${u.role.padEnd(9)} ${(u.disabled ? 'disabled' : 'enabled').padEnd(9)} ${u.createdAt}\n`,
          );
        }
      }),
    );

  passwordOptions(user.command('passwd <login>').description('Set a new password for a user')).action(
    async (login: string, opts: { password?: string; passwordStdin?: boolean }) =>
      withStoreServices(async (ctx) => {
        const { password, generated } = await passwordFrom(opts);
        await ctx.users.setPassword(login, password, cliActor());
        process.stdout.write(`Password of '${login}' changed\n`);
        if (generated) process.stdout.write(`New password (shown once): ${password}\n`);
      }),
  );

  for (const [name, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    user
      .command(`${name} <login>`)
      .description(
        `${disabled ? 'Disable' : 'Enable'} a user (a disabled user cannot log in or use its keys)`,
      )
      .action(async (login: string) =>
        withStoreServices(async (ctx) => {
          await ctx.users.update(login, { disabled }, cliActor());
          process.stdout.write(`User '${login}' ${disabled ? 'disabled' : 'enabled'}\n`);
        }),
      );
  }

  user
    .command('role <login> <role>')
    .description(`Change a user's role (${ROLES.join(', ')})`)
    .action(async (login: string, role: string) =>
      withStoreServices(async (ctx) => {
        if (!isRole(role)) throw new Error(`Unknown role '${role}'; use one of ${ROLES.join(', ')}`);
        await ctx.users.update(login, { role }, cliActor());
        process.stdout.write(`User '${login}' is now ${role}\n`);
      }),
    );

  user
    .command('delete <login>')
    .description('Delete a user and its API keys')
    .action(async (login: string) =>
      withStoreServices(async (ctx) => {
        await ctx.users.delete(login, cliActor());
        process.stdout.write(`User '${login}' deleted\n`);
      }),
    );

  user
    .command('apikey <login>')
    .description('Create an API key for a user (printed once)')
    .requiredOption('--name <name>', 'what the key is for')
    .action(async (login: string, opts: { name: string }) =>
      withStoreServices(async (ctx) => {
        const owner = await ctx.users.get(login);
        const { key, info } = await ctx.apiKeys.create(owner, opts.name, cliActor());
        process.stdout.write(`API key ${info.id} for '${login}' (shown once):\n${key}\n`);
      }),
    );
  return user;
}
