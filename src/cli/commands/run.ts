import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import type { Context } from '../../context.js';
import type { RawParams } from '../../flows/engine-types.js';
import type { Run } from '../../runs/run-types.js';
import { cliActor, withContext } from '../cli-context.js';
import { readProject } from './project.js';

function parseParams(pairs: string[]): RawParams {
  const out: RawParams = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`--param must be name=value, got '${p}'`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

/** A live line: rows so far and the rate, rewritten in place on a terminal, every few seconds otherwise. */
function progressPrinter(): { update(run: Run): void; done(): void } {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let last = 0;
  return {
    update(run) {
      const now = performance.now();
      if (now - last < (tty ? 200 : 5000)) return;
      last = now;
      const secs = (now - started) / 1000;
      const rows = Math.max(run.rowsRead, run.rowsWritten);
      const line = `${run.flow}: ${rows.toLocaleString('en')} rows, ${Math.round(rows / Math.max(secs, 0.001)).toLocaleString('en')} rows/s, ${secs.toFixed(1)} s`;
      process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
    },
    done() {
      if (tty && last > 0) process.stderr.write('\n');
    },
  };
}

async function runAndReport(ctx: Context, flow: string, params: RawParams): Promise<void> {
  const progress = progressPrinter();
  const run = await ctx.runs.runSync(
    { flow, params, trigger: 'cli', requestedBy: cliActor().name },
    undefined,
    undefined,
    (r) => progress.update(r),
  );
  progress.done();
  for (const s of run.steps) {
    process.stdout.write(
      `  ${s.name}: ${s.status}, read ${s.rowsRead}, wrote ${s.rowsWritten}${s.path ? ` (${s.path})` : ''}${s.durationMs !== undefined ? `, ${s.durationMs} ms` : ''}\n`,
    );
  }
  if (run.status === 'succeeded') {
    process.stdout.write(
      `Run ${run.id} succeeded: ${run.rowsWritten} rows written in ${run.durationMs} ms\n`,
    );
  } else {
    process.stderr.write(`Run ${run.id} ${run.status}: ${run.error ?? ''}\n`);
    process.exitCode = 1;
  }
}

export function runCommand(): Command {
  return new Command('run')
    .description('Run a flow now and wait for it (exit code 0 on success, 1 on failure)')
    .argument('<flow>', 'flow name')
    .option('-p, --param <name=value...>', 'a flow parameter (repeatable)', [])
    .option('-f, --file <path...>', 'take the flow and its connections from YAML files instead of the store')
    .addHelpText(
      'after',
      '\nWith --file, the definitions are loaded into a temporary store; relative paths of file and SQLite\n' +
        "connections resolve against the first file's folder, and the run is not recorded on the server.",
    )
    .action(async (flow: string, opts: { param: string[]; file?: string[] }) => {
      const params = parseParams(opts.param);
      if (!opts.file) {
        await withContext((ctx) => runAndReport(ctx, flow, params));
        return;
      }
      const tmp = mkdtempSync(join(tmpdir(), 'integrator-run-'));
      const first = opts.file[0] ?? '.';
      const base = resolve(first.match(/\.ya?ml$/i) ? dirname(first) : first);
      try {
        const [{ loadSettings }, { createContext }, { createLogger }, { applyDocuments }] = await Promise.all(
          [
            import('../../config.js'),
            import('../../context.js'),
            import('../../core/logger.js'),
            import('../../definitions/project-files.js'),
          ],
        );
        // The files next to the YAML are the run's file root; the temporary store is its data directory.
        const settings = {
          ...loadSettings(),
          dataDir: tmp,
          databaseUrl: undefined,
          demo: false,
          fileRoots: [base],
        };
        const ctx = await createContext(settings, createLogger(process.env.INTEGRATOR_LOG_LEVEL ?? 'warn'), {
          pathsBase: base,
        });
        try {
          await applyDocuments(ctx.definitions, ctx.audit, await readProject(opts.file), cliActor());
          await runAndReport(ctx, flow, params);
        } catch (err) {
          process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exitCode = 1;
        } finally {
          await ctx.close();
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    });
}

export function connectionsCommand(): Command {
  const cmd = new Command('connections').description('Inspect connections');
  cmd
    .command('list')
    .description('List connections (secrets masked)')
    .action(async () =>
      withContext(async (ctx) => {
        for (const c of await ctx.definitions.list('connection')) {
          process.stdout.write(`${c.name.padEnd(24)} ${String(c.spec['type'])}\n`);
        }
      }),
    );
  cmd
    .command('test <name>')
    .description('Check that a connection can be reached with its settings (exit code 1 if not)')
    .action(async (name: string) =>
      withContext(async (ctx) => {
        const started = performance.now();
        const connector = await ctx.connectors.get(name);
        await connector.check();
        process.stdout.write(`Connection '${name}' works (${Math.round(performance.now() - started)} ms)\n`);
      }),
    );
  return cmd;
}
