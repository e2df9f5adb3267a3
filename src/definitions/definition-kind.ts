import type { TSchema } from '@sinclair/typebox';
import type { Role } from '../auth/roles.js';

export type KindName = 'connection' | 'flow' | 'listener' | 'schedule' | 'webhook' | 'subscription';

/** Definition names: used in URLs and YAML, so kept to a safe alphabet. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** A definition that another names: which, and where in the naming spec (a JSON path). */
export interface DefinitionRef {
  kind: KindName;
  name: string;
  path: string;
}

/**
 * One kind of definition. The generic store, REST routes and YAML apply/export are driven by this
 * description, so adding a kind is adding one of these.
 */
export interface DefinitionKind<Spec = unknown> {
  kind: KindName;
  /** URL segment: /rest/v1/<plural>. */
  plural: string;
  title: string;
  /** JSON Schema of the spec (the definition without its name). */
  schema: TSchema;
  /** Checks a spec beyond its schema and returns it normalised; throws VALIDATION_FAILED with field paths. */
  validate(spec: unknown, name: string): Spec | Promise<Spec>;
  /**
   * The definitions a (validated) spec names. They must exist when it is saved, and cannot be deleted
   * while it names them; flows naming flows must not reach themselves.
   */
  references?(spec: Spec): DefinitionRef[];
  /**
   * What in a (validated) spec only an admin may choose: an anonymous listener, a connection outside
   * the file roots. Called on every save with the stored spec it replaces (undefined for a new one), so
   * a spec may also guard what it replaces. A save by anyone else is refused with the first setting's
   * code; an admin's save is recorded as approved by that admin (Definition.approvedBy).
   */
  adminOnly?(spec: Spec, previous: Spec | undefined): AdminOnlySetting[] | Promise<AdminOnlySetting[]>;
  /** Top-level spec fields that are secret: encrypted at rest, masked when read. */
  secretFields?(spec: Spec): readonly string[];
  /** Lowest role that may read; writing needs editor. */
  readRole?: Role;
  /** Apply order: lower first (connections before the flows that use them). */
  order: number;
  /** Read-only fields the API adds when it shows a definition (a schedule's next fire time). */
  present?(spec: Spec): Record<string, unknown>;
}

/** One setting only an admin may choose: where it is, why, and the code a refusal has. */
export interface AdminOnlySetting {
  path: string;
  message: string;
  /** FORBIDDEN (403) when choosing it at all needs an admin; PATH_NOT_ALLOWED (422) for a path. */
  code: 'FORBIDDEN' | 'PATH_NOT_ALLOWED';
}

export const MASK = '********';
