/**
 * The role names, lowest first, without their schema: the command line lists them in `--help`, which
 * must not load TypeBox. roles.ts builds the schema and the ranking from this list.
 */
export const ROLES = ['api', 'viewer', 'operator', 'editor', 'admin'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
