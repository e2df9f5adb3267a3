/**
 * Roles, lowest first. A route declares the lowest role it accepts; every role above it is accepted too.
 * `api` sits below `viewer`: it may call listeners and nothing else, because every other route asks for
 * viewer or more.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Role } from './role-names.js';

export { isRole, ROLES, type Role } from './role-names.js';

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
// The schema and the list of names must agree: this line stops compiling if one gains a role.
const _sameRoles: [Static<typeof RoleSchema>, Role] extends [Role, Static<typeof RoleSchema>] ? true : never =
  true;

const RANK: Record<Role, number> = { api: 0, viewer: 1, operator: 2, editor: 3, admin: 4 };

export function roleAtLeast(actual: Role, required: Role): boolean {
  return RANK[actual] >= RANK[required];
}
