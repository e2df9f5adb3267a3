import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import { parseAllDocuments, stringify } from 'yaml';
import type { AuditLog } from '../audit/audit-log.js';
import { type Actor, actsAsAdmin, audited } from '../audit/audited.js';
import { type Role, roleAtLeast } from '../auth/roles.js';
import { AppError, type ErrorDetail } from '../core/errors.js';
import { nestsTooDeep, tooDeepMessage } from '../core/nesting.js';
import type { AdminOnlySetting, KindName } from './definition-kind.js';
import { adminOnlyRefusal, type DefinitionService } from './definition-service.js';

/**
 * Projects as files: YAML documents `kind: <kind>`, `name: <name>`, then the definition's fields, one
 * document per definition, `---` between them. This is what `integrator apply` reads and `integrator
 * export` writes, so a whole project can live in git.
 */
export interface ProjectDocument {
  kind: KindName;
  name: string;
  spec: Record<string, unknown>;
  /** Where it came from, for error messages: "file.yaml document 3 (line 12)". */
  origin: string;
}

/** Alias uses one document may make (yaml's guard against alias bombs, set here explicitly). */
const MAX_ALIASES = 100;

export function parseProjectYaml(
  text: string,
  file: string,
  env?: Record<string, string | undefined>,
): ProjectDocument[] {
  const out: ProjectDocument[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const line = doc.contents?.range?.[0] === undefined ? 1 : lineOf(text, doc.contents.range[0]);
    const origin = `${file} document ${i + 1} (line ${line})`;
    const err = doc.errors[0];
    if (err) {
      const at = err.linePos?.[0];
      // The parser gives up on deep nesting with a stack overflow, reported under this code.
      const message =
        err.code === 'RESOURCE_EXHAUSTION' ? tooDeepMessage('the document') : err.message.split('\n')[0];
      throw new AppError(
        'VALIDATION_FAILED',
        `${file}${at ? ` line ${at.line}, column ${at.col}` : ''}: ${message}`,
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (cause) {
      // Only the alias-count guard throws here: aliases that expand without bound (a "billion laughs").
      throw new AppError(
        'VALIDATION_FAILED',
        `${origin}: aliases expand too much (more than ${MAX_ALIASES} alias uses per document are refused)`,
        { cause },
      );
    }
    if (value === null || value === undefined) return;
    if (nestsTooDeep(value))
      throw new AppError('VALIDATION_FAILED', `${origin}: ${tooDeepMessage('the document')}`);
    out.push(toDocument(env ? expandEnv(value, env, origin) : value, origin));
  });
  return out;
}

function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

const KINDS: readonly KindName[] = ['connection', 'flow', 'listener', 'subscription', 'schedule', 'webhook'];

export function toDocument(value: unknown, origin: string): ProjectDocument {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('VALIDATION_FAILED', `${origin}: a document must be a mapping with kind and name`);
  }
  const { kind, name, ...spec } = value as Record<string, unknown>;
  if (typeof kind !== 'string' || !(KINDS as readonly string[]).includes(kind)) {
    throw new AppError('VALIDATION_FAILED', `${origin}: kind must be one of ${KINDS.join(', ')}`, {
      details: [{ path: `${origin}/kind`, message: `must be one of ${KINDS.join(', ')}` }],
    });
  }
  if (typeof name !== 'string' || name === '') {
    throw new AppError('VALIDATION_FAILED', `${origin}: name is required`, {
      details: [{ path: `${origin}/name`, message: 'required' }],
    });
  }
  return { kind: kind as KindName, name, spec, origin };
}

/** `${env:NAME}` in string values is replaced from the environment of the CLI that applies the files. */
function expandEnv(value: unknown, env: Record<string, string | undefined>, origin: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined)
        throw new AppError('VALIDATION_FAILED', `${origin}: environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v) => expandEnv(v, env, origin));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, origin)]));
  }
  return value;
}

export interface ApplyResult {
  kind: KindName;
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  version: number;
}

/**
 * Applies documents: every one is validated first (nothing is written when any is invalid), then they
 * are written in dependency order (connections, flows, listeners, schedules). Unchanged definitions are
 * left alone, so re-applying the same files is a no-op.
 */
export async function applyDocuments(
  defs: DefinitionService,
  audit: AuditLog,
  docs: ProjectDocument[],
  by: Actor,
): Promise<ApplyResult[]> {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  let checked: unknown[] = [];
  for (const d of docs) {
    const key = `${d.kind}/${d.name}`;
    if (seen.has(key)) details.push({ path: d.origin, message: `${key} is defined twice` });
    seen.add(key);
    try {
      await defs.kind(d.kind).validate(structuredClone(d.spec), d.name);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const inner = err.details ?? [{ path: '/', message: err.message }];
      for (const x of inner) details.push({ path: `${d.origin} ${x.path}`, message: x.message });
    }
  }
  if (details.length === 0) {
    // The names each document uses, against the store overlaid with every document of the apply.
    const overlay = new Map<string, unknown>();
    const specs: unknown[] = [];
    for (const d of docs) {
      const spec: unknown = await defs.kind(d.kind).validate(structuredClone(d.spec), d.name);
      overlay.set(`${d.kind}/${d.name}`, spec);
      specs.push(spec);
    }
    let code: 'REFERENCE_NOT_FOUND' | 'REFERENCE_CYCLE' | undefined;
    for (const [i, d] of docs.entries()) {
      for (const p of await defs.referenceProblems(d.kind, d.name, specs[i], overlay)) {
        code ??= p.code;
        details.push({ path: `${d.origin} ${p.path}`, message: p.message });
      }
    }
    if (code) {
      throw new AppError(
        code,
        `${details.length} problem(s) in the files; nothing was applied: ${details[0]?.path} ${details[0]?.message}`,
        { details },
      );
    }
    checked = specs;
  }
  if (details.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${details.length} problem(s) in the files; nothing was applied: ${details[0]?.path} ${details[0]?.message}`,
      {
        details,
      },
    );
  }
  const order = new Map(defs.allKinds().map((k) => [k.kind, k.order]));
  const sorted = [...docs].sort((a, b) => (order.get(a.kind) ?? 99) - (order.get(b.kind) ?? 99));
  return audited(
    audit,
    by,
    'project.applied',
    null,
    async () => {
      // Inside the audited change, so a refused apply is in the audit trail (denied).
      if (!actsAsAdmin(by)) await requireNoAdminOnly(defs, docs, checked);
      const results: ApplyResult[] = [];
      for (const d of sorted) {
        const current = await defs.find(d.kind, d.name);
        const next: unknown = await defs.kind(d.kind).validate(structuredClone(d.spec), d.name);
        if (current && JSON.stringify(sortKeys(current.spec)) === JSON.stringify(sortKeys(next))) {
          results.push({ kind: d.kind, name: d.name, action: 'unchanged', version: current.version });
          continue;
        }
        const saved = await defs.put(d.kind, d.name, d.spec, by, { referencesChecked: true });
        results.push({
          kind: d.kind,
          name: d.name,
          action: saved.created ? 'created' : 'updated',
          version: saved.version,
        });
      }
      return results;
    },
    (r) => ({
      created: r.filter((x) => x.action === 'created').length,
      updated: r.filter((x) => x.action === 'updated').length,
    }),
  );
}

/**
 * Refuses the whole apply, before anything is written, when a document that would change something
 * holds a setting only an admin may choose (see DefinitionKind.adminOnly). Unchanged ones pass, so an
 * editor can re-apply a project in which an admin made such choices.
 */
async function requireNoAdminOnly(
  defs: DefinitionService,
  docs: ProjectDocument[],
  specs: unknown[],
): Promise<void> {
  const found: AdminOnlySetting[] = [];
  for (const [i, d] of docs.entries()) {
    const current = await defs.find(d.kind, d.name);
    if (current && JSON.stringify(sortKeys(current.spec)) === JSON.stringify(sortKeys(specs[i]))) continue;
    for (const setting of await defs.adminOnlySettings(d.kind, specs[i], await defs.stored(d.kind, d.name))) {
      found.push({ ...setting, path: `${d.origin} ${setting.path}` });
    }
  }
  if (found.length > 0) throw adminOnlyRefusal(found);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/** Every definition as YAML, in apply order. Secrets are masked unless asked for. */
export async function exportProject(
  defs: DefinitionService,
  options: { withSecrets?: boolean; role?: Role } = {},
): Promise<string> {
  const parts: string[] = [];
  for (const kind of defs.allKinds()) {
    // A caller gets the kinds their role may read, no more (webhook URLs are an editor's to see).
    const role = options.role;
    if (role !== undefined && !roleAtLeast(role, kind.readRole ?? 'viewer')) continue;
    for (const listed of await defs.list(kind.kind)) {
      const d = options.withSecrets ? await defs.resolve(kind.kind, listed.name) : listed;
      parts.push(stringify({ kind: kind.kind, name: d.name, ...d.spec }, { lineWidth: 0 }));
    }
  }
  return parts.join('---\n');
}

function objectParts(schema: TSchema): TObject[] {
  if (Array.isArray(schema['allOf'])) return (schema['allOf'] as TSchema[]).flatMap(objectParts);
  return [schema as TObject];
}

/** JSON Schema of a project file document, for editors and CI checks of YAML files. */
export function projectDocumentSchema(defs: DefinitionService): TSchema {
  const branches: TSchema[] = [];
  for (const k of defs.allKinds()) {
    const variants: TSchema[] = Array.isArray(k.schema['anyOf'])
      ? (k.schema['anyOf'] as TSchema[])
      : [k.schema];
    for (const v of variants) {
      const props: Record<string, unknown> = {};
      const required = new Set<string>(['kind', 'name']);
      let closed = false;
      for (const part of objectParts(v)) {
        Object.assign(props, part.properties ?? {});
        for (const r of part.required ?? []) required.add(r);
        if (part.additionalProperties === false) closed = true;
      }
      branches.push(
        Type.Unsafe({
          type: 'object',
          title: `${k.kind}${v.title ? `: ${v.title}` : ''}`,
          properties: {
            kind: { const: k.kind },
            name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' },
            ...props,
          },
          required: [...required],
          ...(closed ? { additionalProperties: false } : {}),
        }),
      );
    }
  }
  return Type.Unsafe({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'integrator-project-document',
    title: 'Integrator project document',
    description: 'One YAML document of an Integrator project: kind, name and the definition fields',
    anyOf: branches,
  });
}
