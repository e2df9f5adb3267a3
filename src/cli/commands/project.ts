import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { ProjectDocument } from '../../definitions/project-files.js';
import { cliActor, withContext } from '../cli-context.js';

// The YAML reader and the project services load when a command that needs them runs.
const projectFiles = () => import('../../definitions/project-files.js');

/** Every .yaml/.yml file under a path (a file, or a folder searched recursively), in name order. */
export function yamlFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const full = join(path, e.name);
      if (e.isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/i.test(e.name) ? [full] : [];
    });
}

export async function readProject(paths: string[]): Promise<ProjectDocument[]> {
  const { parseProjectYaml } = await projectFiles();
  return paths.flatMap(yamlFiles).flatMap((f) => parseProjectYaml(readFileSync(f, 'utf8'), f, process.env));
}

export function applyCommand(): Command {
  return new Command('apply')
    .description('Create or update connections, flows, listeners and schedules from YAML files')
    .requiredOption('-f, --file <path...>', 'YAML files or folders (searched recursively for *.yaml, *.yml)')
    .option('--dry-run', 'validate only; write nothing')
    .addHelpText(
      'after',
      '\nEach YAML document has kind, name and the definition fields. $' +
        '{env:NAME} in a value is replaced\n' +
        'from the environment. All documents are validated before anything is written.',
    )
    .action(async (opts: { file: string[]; dryRun?: boolean }) =>
      withContext(async (ctx) => {
        const docs = await readProject(opts.file);
        if (opts.dryRun) {
          for (const d of docs) await ctx.definitions.kind(d.kind).validate(structuredClone(d.spec), d.name);
          process.stdout.write(`${docs.length} documents are valid\n`);
          return;
        }
        const { applyDocuments } = await projectFiles();
        const results = await applyDocuments(ctx.definitions, ctx.audit, docs, cliActor());
        for (const r of results)
          process.stdout.write(`${r.kind}/${r.name} ${r.action} (version ${r.version})\n`);
      }),
    );
}

export function exportCommand(): Command {
  return new Command('export')
    .description('Write every definition as YAML (secrets masked unless --with-secrets)')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .option('--with-secrets', 'include decrypted secrets (keep the file safe)')
    .action(async (opts: { output?: string; withSecrets?: boolean }) =>
      withContext(async (ctx) => {
        const { exportProject } = await projectFiles();
        const yaml = await exportProject(ctx.definitions, { withSecrets: opts.withSecrets === true });
        if (opts.output) writeFileSync(opts.output, yaml, { mode: opts.withSecrets ? 0o600 : 0o644 });
        else process.stdout.write(yaml);
      }),
    );
}

export function schemaCommand(): Command {
  return new Command('schema')
    .description('Print the JSON Schema of project YAML documents (for editors and CI checks)')
    .action(async () =>
      withContext(async (ctx) => {
        const { projectDocumentSchema } = await projectFiles();
        process.stdout.write(`${JSON.stringify(projectDocumentSchema(ctx.definitions), null, 2)}\n`);
      }),
    );
}
