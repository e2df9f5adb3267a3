import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.js';
import { type Actor, audited } from '../audit/audited.js';
import { hashPassword, MIN_PASSWORD_LENGTH, passwordVersion } from '../auth/passwords.js';
import { isRole, type Role } from '../auth/role-names.js';
import { AppError, conflict, notFound } from '../core/errors.js';
import type { Store } from '../store/database.js';
import type { UsersTable } from '../store/schema.js';

export interface User {
  id: string;
  login: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export const LOGIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function toUser(r: UsersTable): User {
  if (!isRole(r.role)) throw new AppError('INTERNAL', `User ${r.login} has an unknown role '${r.role}'`);
  return {
    id: r.id,
    login: r.login,
    role: r.role,
    disabled: r.disabled !== 0,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AppError(
      'VALIDATION_FAILED',
      `Password must be at least ${MIN_PASSWORD_LENGTH} characters long`,
      {
        details: [{ path: '/password', message: `shorter than ${MIN_PASSWORD_LENGTH} characters` }],
      },
    );
  }
}

/** Users and their passwords. Every change is audited with the actor that made it. */
export class UserService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  async list(): Promise<User[]> {
    const rows = await this.store.db.selectFrom('users').selectAll().orderBy('login').execute();
    return rows.map(toUser);
  }

  async findByLogin(login: string): Promise<(User & { passwordHash: string }) | undefined> {
    const r = await this.store.db
      .selectFrom('users')
      .selectAll()
      .where('login', '=', login)
      .executeTakeFirst();
    return r ? { ...toUser(r), passwordHash: r.password_hash } : undefined;
  }

  async findById(id: string): Promise<User | undefined> {
    return (await this.findCredentials(id))?.user;
  }

  /** The user with the version of its password (see passwordVersion), for checking a credential. */
  async findCredentials(id: string): Promise<{ user: User; passwordVersion: string } | undefined> {
    const r = await this.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? { user: toUser(r), passwordVersion: passwordVersion(r.password_hash) } : undefined;
  }

  async get(login: string): Promise<User> {
    const u = await this.findByLogin(login);
    if (!u) throw notFound('User', login);
    const { passwordHash: _, ...user } = u;
    return user;
  }

  async count(): Promise<number> {
    const r = await this.store.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  create(input: { login: string; password: string; role: Role }, by: Actor): Promise<User> {
    return audited(
      this.audit,
      by,
      'user.created',
      input.login,
      () => this.insert(input),
      (u) => ({ role: u.role }),
    );
  }

  private async insert(input: { login: string; password: string; role: Role }): Promise<User> {
    if (!LOGIN_PATTERN.test(input.login)) {
      throw new AppError('VALIDATION_FAILED', `Login '${input.login}' is not valid`, {
        details: [
          { path: '/login', message: 'use 1-64 letters, digits, . _ @ -, starting with a letter or digit' },
        ],
      });
    }
    checkPassword(input.password);
    if (await this.findByLogin(input.login)) throw conflict(`User '${input.login}' already exists`);
    const now = new Date().toISOString();
    const row: UsersTable = {
      id: randomUUID(),
      login: input.login,
      password_hash: await hashPassword(input.password),
      role: input.role,
      disabled: 0,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.store.db.insertInto('users').values(row).execute();
    } catch (err) {
      // A concurrent create of the same login loses on the unique index.
      if (await this.findByLogin(input.login)) throw conflict(`User '${input.login}' already exists`);
      throw err;
    }
    return toUser(row);
  }

  update(
    login: string,
    patch: { role?: Role | undefined; disabled?: boolean | undefined },
    by: Actor,
  ): Promise<User> {
    return audited(
      this.audit,
      by,
      'user.updated',
      login,
      () => this.patch(login, patch),
      () => ({ ...patch }),
    );
  }

  private async patch(
    login: string,
    patch: { role?: Role | undefined; disabled?: boolean | undefined },
  ): Promise<User> {
    const user = await this.get(login);
    const demoting = patch.role !== undefined && patch.role !== 'admin';
    if (user.role === 'admin' && !user.disabled && (demoting || patch.disabled === true)) {
      await this.assertAnotherAdmin(user.id);
    }
    const values: Partial<UsersTable> = { updated_at: new Date().toISOString() };
    if (patch.role !== undefined) values.role = patch.role;
    if (patch.disabled !== undefined) values.disabled = patch.disabled ? 1 : 0;
    await this.store.db.updateTable('users').set(values).where('id', '=', user.id).execute();
    return this.get(login);
  }

  setPassword(login: string, password: string, by: Actor): Promise<void> {
    return audited(this.audit, by, 'user.password.changed', login, async () => {
      checkPassword(password);
      const user = await this.get(login);
      await this.store.db
        .updateTable('users')
        .set({ password_hash: await hashPassword(password), updated_at: new Date().toISOString() })
        .where('id', '=', user.id)
        .execute();
    });
  }

  delete(login: string, by: Actor): Promise<void> {
    return audited(this.audit, by, 'user.deleted', login, async () => {
      const user = await this.get(login);
      if (user.role === 'admin' && !user.disabled) await this.assertAnotherAdmin(user.id);
      await this.store.db.deleteFrom('users').where('id', '=', user.id).execute();
    });
  }

  /** The server must keep at least one enabled admin, or nobody could manage users again. */
  private async assertAnotherAdmin(exceptId: string): Promise<void> {
    const other = await this.store.db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .where('id', '!=', exceptId)
      .executeTakeFirst();
    if (!other) throw conflict('This is the last enabled admin; create or enable another admin first');
  }
}
