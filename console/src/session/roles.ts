import type { Role } from '../api/types.js';

const RANK: Record<Role, number> = { api: 0, viewer: 1, operator: 2, editor: 3, admin: 4 };

/** The server's rule (src/auth/roles.ts): a role may do everything the roles below it may. */
export function roleAtLeast(actual: Role, required: Role): boolean {
  return RANK[actual] >= RANK[required];
}
