/**
 * Roles, lowest first. A route declares the lowest role it accepts; every role above it is accepted too.
 * `api` sits below `viewer`: it may call listeners and nothing else, because every other route asks for
 * viewer or more.
 */
import { type Static, Type } from '@sinclair/typebox';

export const RoleSchema = Type.Union(
  [
    Type.Literal('api'),
    Type.Literal('viewer'),
    Type.Literal('operator'),
    Type.Literal('editor'),
    Type.Literal('admin'),
  ],
  { description: 'api < viewer < operator < editor < admin' },
);
export type Role = Static<typeof RoleSchema>;
export const ROLES: readonly Role[] = ['api', 'viewer', 'operator', 'editor', 'admin'];

const RANK: Record<Role, number> = { api: 0, viewer: 1, operator: 2, editor: 3, admin: 4 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAtLeast(actual: Role, required: Role): boolean {
  return RANK[actual] >= RANK[required];
}
