import type { AuditLog } from '../audit/audit-log.js';
import { type Actor, actsAsAdmin, audited } from '../audit/audited.js';
import { AppError, conflict, notFound } from '../core/errors.js';
import { isRecord } from '../core/validate.js';
import type { Store } from '../store/database.js';
import type { DefinitionsTable, DefinitionVersionsTable } from '../store/schema.js';
import {
  type AdminOnlySetting,
  type DefinitionKind,
  type KindName,
  MASK,
  NAME_PATTERN,
} from './definition-kind.js';
import { referenceProblems, type SpecLookup } from './references.js';
import type { SecretBox } from './secret-box.js';
import { escapePointer, type SpecChange, specChanges } from './spec-diff.js';

export interface Definition<Spec = Record<string, unknown>> {
  kind: KindName;
  name: string;
  spec: Spec;
  version: number;
  createdAt: string;
  updatedAt: string;
  updatedBy: string | null;
  /** The admin whose save approved settings only an admin may choose; null when it has none. */
  approvedBy: string | null;
}

/** A saved version of a definition, as the versions API lists it. */
export interface DefinitionVersion {
  version: number;
  savedAt: string;
  savedBy: string | null;
}

const CACHE_MS = 1000;

export type ChangeListener = (change: { kind: KindName; name: string; deleted: boolean }) => void;

function parseObject(text: string): Record<string, unknown> {
  const v: unknown = JSON.parse(text);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error('stored definition is not an object');
  return Object.fromEntries(Object.entries(v));
}

/**
 * Stores definitions of every kind. Specs are validated by their kind on every write; secret fields
 * are split off and sealed; every change is audited and announced to change listeners (the connector
 * pool, the listener router, the scheduler) so they reload what changed.
 */
export class DefinitionService {
  private readonly kinds = new Map<KindName, DefinitionKind>();
  private readonly listeners: ChangeListener[] = [];
  private readonly cache = new Map<string, { def: Definition | undefined; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly audit: AuditLog,
  ) {}

  register<S>(kind: DefinitionKind<S>): void {
    this.kinds.set(kind.kind, kind as DefinitionKind);
  }

  kind(name: KindName): DefinitionKind {
    const k = this.kinds.get(name);
    if (!k) throw new AppError('INTERNAL', `Definition kind ${name} is not registered`);
    return k;
  }

  allKinds(): DefinitionKind[] {
    return [...this.kinds.values()].sort((a, b) => a.order - b.order);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Definitions as the API shows them: secrets masked. */
  async list(kind: KindName): Promise<Definition[]> {
    const rows = await this.store.db
      .selectFrom('definitions')
      .selectAll()
      .where('kind', '=', kind)
      .orderBy('name')
      .execute();
    return rows.map((r) => this.toDefinition(r, false));
  }

  async get(kind: KindName, name: string): Promise<Definition> {
    const row = await this.row(kind, name);
    if (!row) throw notFound(this.kind(kind).title, name);
    return this.toDefinition(row, false);
  }

  /** With secrets decrypted: for the engine only, never for a response. */
  async resolve<S = Record<string, unknown>>(kind: KindName, name: string): Promise<Definition<S>> {
    const def = await this.find(kind, name);
    if (!def) throw notFound(this.kind(kind).title, name);
    return def as Definition<S>;
  }

  /**
   * With secrets decrypted, for the engine. Runs ask for the same flows and connections over and over,
   * so answers are kept for a second: a change made in this process is seen at once (the entry is
   * dropped), one made by another process of a cluster within a second. Callers must not mutate it.
   */
  async find(kind: KindName, name: string): Promise<Definition | undefined> {
    const key = `${kind}\u0000${name}`;
    const hit = this.cache.get(key);
    const now = Date.now();
    if (hit && now - hit.at < CACHE_MS) return hit.def;
    const row = await this.row(kind, name);
    const def = row ? this.toDefinition(row, true) : undefined;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { def, at: now });
    return def;
  }

  /** Creates (POST): 409 when the name is taken. */
  create(kind: KindName, name: string, spec: unknown, by: Actor): Promise<Definition> {
    return audited(this.audit, by, `${kind}.created`, name, () => this.write(kind, name, spec, by, 'create'));
  }

  /**
   * Creates or replaces (PUT and apply). `referencesChecked`: the caller (apply) has checked the names
   * this spec uses against the whole set it writes, some of which may not be stored yet.
   */
  put(
    kind: KindName,
    name: string,
    spec: unknown,
    by: Actor,
    options: { referencesChecked?: boolean } = {},
  ): Promise<Definition & { created: boolean }> {
    return audited(
      this.audit,
      by,
      `${kind}.saved`,
      name,
      () => this.write(kind, name, spec, by, 'put', options.referencesChecked ?? false),
      (d) => ({ version: d.version, created: d.created }),
    );
  }

  delete(kind: KindName, name: string, by: Actor): Promise<void> {
    return audited(this.audit, by, `${kind}.deleted`, name, async () => {
      const users = await this.referrers(kind, name);
      if (users.length > 0) {
        throw new AppError(
          'STILL_REFERENCED',
          `${this.kind(kind).title} '${name}' is still used by ${users.map((u) => `${u.kind} '${u.name}' (${u.path})`).join(', ')}; change or delete ${users.length > 1 ? 'those' : 'it'} first`,
          {
            details: users.map((u) => ({
              path: `${u.kind}/${u.name}${u.path}`,
              message: `names ${kind} '${name}'`,
            })),
          },
        );
      }
      const res = await this.store.db
        .deleteFrom('definitions')
        .where('kind', '=', kind)
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound(this.kind(kind).title, name);
      this.announce(kind, name, true);
    });
  }

  private async write(
    kindName: KindName,
    name: string,
    input: unknown,
    by: Actor,
    mode: 'create' | 'put',
    referencesChecked = false,
  ): Promise<Definition & { created: boolean }> {
    const kind = this.kind(kindName);
    if (!NAME_PATTERN.test(name)) {
      throw new AppError('VALIDATION_FAILED', `${kind.title} name '${name}' is not valid`, {
        details: [
          { path: '/name', message: 'use 1-128 letters, digits, _ . -, starting with a letter or digit' },
        ],
      });
    }
    const existing = await this.row(kindName, name);
    if (existing && mode === 'create') throw conflict(`${kind.title} '${name}' already exists`);
    const previousSecrets = existing?.secrets ? this.box.open(existing.secrets) : {};
    const raw = isRecord(input) ? { ...input } : input;
    // A masked value sent back unchanged means "keep the stored secret".
    if (isRecord(raw)) {
      for (const [k, v] of Object.entries(raw))
        if (v === MASK && k in previousSecrets) raw[k] = previousSecrets[k];
    }
    const spec = await kind.validate(raw, name);
    const adminOnly = await this.requireAdminFor(kindName, spec, existing, by);
    if (!referencesChecked) await this.requireReferences(kindName, name, spec);
    const specObj: Record<string, unknown> = isRecord(spec) ? { ...spec } : {};
    const secretNames = kind.secretFields?.(spec) ?? [];
    const secrets: Record<string, unknown> = {};
    for (const f of secretNames) {
      if (specObj[f] === MASK)
        throw new AppError('VALIDATION_FAILED', `/${f} is masked but no secret is stored for it`);
      if (specObj[f] !== undefined) secrets[f] = specObj[f];
      delete specObj[f];
    }
    const now = new Date().toISOString();
    const row: DefinitionsTable = {
      kind: kindName,
      name,
      spec: JSON.stringify(specObj),
      secrets: Object.keys(secrets).length > 0 ? this.box.seal(secrets) : null,
      // After a delete the history stays, so a definition made again goes on from its last version.
      version: (existing?.version ?? (await this.lastVersion(kindName, name))) + 1,
      created_at: existing?.created_at ?? now,
      updated_at: now,
      updated_by: by.name,
      approved_by: adminOnly.length > 0 ? by.name : null,
    };
    const version: DefinitionVersionsTable = {
      kind: kindName,
      name,
      version: row.version,
      spec: row.spec,
      secrets: row.secrets,
      saved_at: now,
      saved_by: by.name,
      approved_by: row.approved_by,
    };
    if (existing) {
      await this.store.db.transaction().execute(async (trx) => {
        const res = await trx
          .updateTable('definitions')
          .set(row)
          .where('kind', '=', kindName)
          .where('name', '=', name)
          .where('version', '=', existing.version)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0)
          throw conflict(`${kind.title} '${name}' was changed concurrently; retry`);
        await trx.insertInto('definition_versions').values(version).execute();
      });
    } else {
      try {
        await this.store.db.transaction().execute(async (trx) => {
          await trx.insertInto('definitions').values(row).execute();
          await trx.insertInto('definition_versions').values(version).execute();
        });
      } catch (err) {
        if (await this.row(kindName, name)) throw conflict(`${kind.title} '${name}' already exists`);
        throw err;
      }
    }
    this.announce(kindName, name, false);
    return { ...this.toDefinition(row, false), created: !existing };
  }

  /** The saved versions of a definition, newest first; kept after the definition is deleted. */
  async versions(kind: KindName, name: string): Promise<DefinitionVersion[]> {
    const rows = await this.store.db
      .selectFrom('definition_versions')
      .select(['version', 'saved_at', 'saved_by'])
      .where('kind', '=', kind)
      .where('name', '=', name)
      .orderBy('version', 'desc')
      .execute();
    if (rows.length === 0) throw notFound(`${this.kind(kind).title} history`, name);
    return rows.map((r) => ({ version: Number(r.version), savedAt: r.saved_at, savedBy: r.saved_by }));
  }

  /** One saved version, secrets masked. */
  async version(
    kind: KindName,
    name: string,
    version: number,
  ): Promise<DefinitionVersion & { spec: Record<string, unknown> }> {
    const r = await this.versionRow(kind, name, version);
    return {
      version: Number(r.version),
      savedAt: r.saved_at,
      savedBy: r.saved_by,
      spec: this.specOf(r.spec, r.secrets, false),
    };
  }

  /**
   * What changed from version `from` to version `to`: one entry per JSON path that was added, removed
   * or replaced. A secret shows only that it changed, never its value.
   */
  async diff(kind: KindName, name: string, from: number, to: number): Promise<SpecChange[]> {
    const [a, b] = await Promise.all([this.versionRow(kind, name, from), this.versionRow(kind, name, to)]);
    const secretsA = a.secrets ? this.box.open(a.secrets) : {};
    const secretsB = b.secrets ? this.box.open(b.secrets) : {};
    const changes = specChanges(parseObject(a.spec), parseObject(b.spec));
    for (const field of new Set([...Object.keys(secretsA), ...Object.keys(secretsB)])) {
      const inA = field in secretsA;
      const inB = field in secretsB;
      if (inA && inB && JSON.stringify(secretsA[field]) === JSON.stringify(secretsB[field])) continue;
      const path = `/${escapePointer(field)}`;
      if (!inA) changes.push({ op: 'add', path, to: MASK });
      else if (!inB) changes.push({ op: 'remove', path, from: MASK });
      else changes.push({ op: 'replace', path, from: MASK, to: MASK });
    }
    return changes.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  }

  /**
   * Saves version `version` again as the newest (secrets included), checked like any save: it must
   * still be valid, its references must exist, and settings only an admin may choose need one.
   * Works for a deleted definition too, which it makes again. Audited as `<kind>.reverted`.
   */
  revert(
    kind: KindName,
    name: string,
    version: number,
    by: Actor,
  ): Promise<Definition & { created: boolean }> {
    return audited(
      this.audit,
      by,
      `${kind}.reverted`,
      name,
      async () => {
        const r = await this.versionRow(kind, name, version);
        return this.write(kind, name, this.specOf(r.spec, r.secrets, true), by, 'put');
      },
      (d) => ({ from: version, version: d.version }),
    );
  }

  private async versionRow(kind: KindName, name: string, version: number): Promise<DefinitionVersionsTable> {
    const r = await this.store.db
      .selectFrom('definition_versions')
      .selectAll()
      .where('kind', '=', kind)
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!r) throw notFound(`Version ${version} of ${this.kind(kind).title.toLowerCase()}`, name);
    return r;
  }

  private async lastVersion(kind: KindName, name: string): Promise<number> {
    const r = await this.store.db
      .selectFrom('definition_versions')
      .select((eb) => eb.fn.max('version').as('last'))
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(r?.last ?? 0);
  }

  /**
   * 422 when `spec` names a definition that does not exist, or (a flow) reaches itself through the
   * flows it runs; the details give the field paths. `overlay` holds specs about to be written (apply).
   */
  async referenceProblems(kind: KindName, name: string, spec: unknown, overlay?: Map<string, unknown>) {
    const lookup: SpecLookup = async (k, n) => {
      const key = `${k}/${n}`;
      if (k === kind && n === name) return spec;
      if (overlay?.has(key)) return overlay.get(key);
      const row = await this.row(k, n);
      return row ? parseObject(row.spec) : undefined;
    };
    return referenceProblems((k) => this.kind(k), kind, name, spec, lookup);
  }

  /**
   * The settings of `spec` only an admin may choose (see DefinitionKind.adminOnly), given the stored
   * row it replaces; `existing` undefined for a new definition.
   */
  async adminOnlySettings(
    kindName: KindName,
    spec: unknown,
    existing: { spec: string } | undefined,
  ): Promise<AdminOnlySetting[]> {
    const kind = this.kind(kindName);
    if (!kind.adminOnly) return [];
    return kind.adminOnly(spec, existing ? parseObject(existing.spec) : undefined);
  }

  /** Throws (403 or 422, see AdminOnlySetting) when `by` is not an admin and `spec` needs one. */
  private async requireAdminFor(
    kindName: KindName,
    spec: unknown,
    existing: { spec: string } | undefined,
    by: Actor,
  ): Promise<AdminOnlySetting[]> {
    const settings = await this.adminOnlySettings(kindName, spec, existing);
    if (settings.length > 0 && !actsAsAdmin(by)) throw adminOnlyRefusal(settings);
    return settings;
  }

  /** The stored row of a definition, for callers that compare before they write (apply). */
  async stored(kind: KindName, name: string): Promise<{ spec: string } | undefined> {
    return this.row(kind, name);
  }

  private async requireReferences(kind: KindName, name: string, spec: unknown): Promise<void> {
    const problems = await this.referenceProblems(kind, name, spec);
    const first = problems[0];
    if (!first) return;
    throw new AppError(first.code, `${first.path}: ${first.message}`, {
      details: problems.map(({ path, message }) => ({ path, message })),
    });
  }

  /** The stored definitions that name `kind`/`name`, and where. */
  private async referrers(
    kind: KindName,
    name: string,
  ): Promise<{ kind: KindName; name: string; path: string }[]> {
    const found: { kind: KindName; name: string; path: string }[] = [];
    for (const k of this.allKinds()) {
      if (!k.references) continue;
      const rows = await this.store.db
        .selectFrom('definitions')
        .select(['name', 'spec'])
        .where('kind', '=', k.kind)
        .orderBy('name')
        .execute();
      for (const row of rows) {
        if (k.kind === kind && row.name === name) continue;
        for (const ref of k.references(parseObject(row.spec))) {
          if (ref.kind === kind && ref.name === name)
            found.push({ kind: k.kind, name: row.name, path: ref.path });
        }
      }
    }
    return found;
  }

  private announce(kind: KindName, name: string, deleted: boolean): void {
    this.cache.delete(`${kind}\u0000${name}`);
    for (const l of this.listeners) l({ kind, name, deleted });
  }

  private row(kind: KindName, name: string): Promise<DefinitionsTable | undefined> {
    return this.store.db
      .selectFrom('definitions')
      .selectAll()
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
  }

  private specOf(text: string, sealed: string | null, withSecrets: boolean): Record<string, unknown> {
    const spec = parseObject(text);
    if (sealed) {
      const secrets = this.box.open(sealed);
      for (const [k, v] of Object.entries(secrets)) spec[k] = withSecrets ? v : MASK;
    }
    return spec;
  }

  private toDefinition(r: DefinitionsTable, withSecrets: boolean): Definition {
    const spec = this.specOf(r.spec, r.secrets, withSecrets);
    const kind = this.kinds.get(r.kind as KindName);
    return {
      kind: kind?.kind ?? 'flow',
      name: r.name,
      spec,
      version: Number(r.version),
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      updatedBy: r.updated_by,
      approvedBy: r.approved_by ?? null,
    };
  }
}

/** The refusal of settings only an admin may choose: the first one's code, every one in the details. */
export function adminOnlyRefusal(settings: AdminOnlySetting[]): AppError {
  const code = settings.some((s) => s.code === 'FORBIDDEN') ? 'FORBIDDEN' : 'PATH_NOT_ALLOWED';
  const first = settings.find((s) => s.code === code) ?? settings[0];
  return new AppError(code, `${first?.path}: ${first?.message}; only an admin may save this`, {
    details: settings.map(({ path, message }) => ({ path, message })),
  });
}
