import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import type { Database } from '../../src/store/schema.js';
import { type GuardedUpdate, UnitOfWork } from '../../src/store/unit-of-work.js';
import { createPgDatabase } from '../services.js';

const USER_COLUMNS = [
  'id',
  'login',
  'password_hash',
  'role',
  'disabled',
  'created_at',
  'updated_at',
] as const;
const KEY_COLUMNS = ['id', 'user_id', 'name', 'key_hash', 'created_at'] as const;
const at = '2026-01-01T00:00:00.000Z';
const user = (id: string, role = 'viewer') => ({
  id,
  login: id,
  password_hash: 'x',
  role,
  disabled: 0,
  created_at: at,
  updated_at: at,
});
const apiKey = (id: string, userId: string) => ({
  id,
  user_id: userId,
  name: id,
  key_hash: 'h',
  created_at: at,
});

interface RoleChange {
  id: string;
  from: string;
  to: string;
}

/** A guarded update of users' roles: a role another writer changed first is left alone. */
function roleChanges(store: Store, calls: { write: number; statement: number }): GuardedUpdate<RoleChange> {
  return {
    width: 3,
    write: async (trx: Transaction<Database>, items) => {
      calls.write++;
      for (const c of items)
        await trx
          .updateTable('users')
          .set({ role: c.to })
          .where('id', '=', c.id)
          .where('role', '=', c.from)
          .execute();
    },
    statement: store.supportsOneStatementGroupCommit
      ? (items, offset) => {
          calls.statement++;
          const values: unknown[] = [];
          const tuples = items.map((c) => {
            const marks = [c.id, c.from, c.to].map((v) => {
              values.push(v);
              return store.placeholder(offset + values.length);
            });
            return `(${marks.join(', ')})`;
          });
          return {
            text:
              `update users as u set role = v.role from (values ${tuples.join(', ')}) as v(id, from_role, role) ` +
              'where u.id = v.id and u.role = v.from_role',
            values,
          };
        }
      : undefined,
  };
}

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`unit of work on ${kind}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      if (kind === 'postgres') {
        const db = await createPgDatabase('uow');
        store = openStore({ databaseUrl: db.url, dataDir: '' });
        cleanup = db.drop;
      } else {
        const dir = mkdtempSync(join(tmpdir(), 'uow-'));
        store = openStore({ dataDir: dir });
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      }
      await migrateToLatest(store);
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    const users = async () =>
      (await store.db.selectFrom('users').select(['id', 'role']).orderBy('id').execute()).map(
        (u) => `${u.id}:${u.role}`,
      );

    it('writes its inserts (tables in the order they first appear) and guarded updates in a transaction', async () => {
      const calls = { write: 0, statement: 0 };
      const roles = roleChanges(store, calls);
      await store.db
        .insertInto('users')
        .values([user('u0'), user('u1', 'admin')])
        .execute();
      // Two units, merged as a group commit does: the updates of one kind go out together.
      const first = new UnitOfWork()
        .insert('users', USER_COLUMNS, user('u2'))
        .insert('api_keys', KEY_COLUMNS, apiKey('k2', 'u2'))
        .update(roles, { id: 'u0', from: 'viewer', to: 'editor' });
      const second = new UnitOfWork()
        .insert('users', USER_COLUMNS, user('u3'))
        // Guarded: u1 is no longer a viewer, so it is left as it is.
        .update(roles, { id: 'u1', from: 'viewer', to: 'operator' });
      const work = new UnitOfWork().merge(first).merge(second);
      await store.db.transaction().execute((trx) => work.execute(trx, store));
      expect(await users()).toEqual(['u0:editor', 'u1:admin', 'u2:viewer', 'u3:viewer']);
      expect(await store.db.selectFrom('api_keys').select('id').execute()).toEqual([{ id: 'k2' }]);
      expect(calls).toEqual(
        store.supportsOneStatementGroupCommit ? { write: 0, statement: 1 } : { write: 1, statement: 0 },
      );
    });

    it('leaves nothing behind when one of its changes fails', async () => {
      const work = new UnitOfWork()
        .insert('users', USER_COLUMNS, user('u9'))
        .insert('api_keys', KEY_COLUMNS, apiKey('k9', 'nobody'));
      await expect(store.db.transaction().execute((trx) => work.execute(trx, store))).rejects.toThrow();
      expect(await users()).not.toContain('u9:viewer');
    });

    // Only a store with one-statement group commits takes a unit as parts of a statement.
    if (kind === 'postgres')
      it('is parts of one statement after other bound values, numbered on from them', async () => {
        const calls = { write: 0, statement: 0 };
        const roles = roleChanges(store, calls);
        const work = new UnitOfWork()
          .insert('users', USER_COLUMNS, user('p1'))
          .insert('users', USER_COLUMNS, user('p2'))
          .insert('api_keys', KEY_COLUMNS, apiKey('kp', 'p1'))
          .update(roles, { id: 'u2', from: 'viewer', to: 'operator' })
          .update(roles, { id: 'u3', from: 'viewer', to: 'editor' });
        expect(work.statementValues()).toBe(2 * USER_COLUMNS.length + KEY_COLUMNS.length + 2 * 3);
        const before = ['marker'];
        const parts = work.parts(store, before.length);
        const bound = [...before, ...parts.flatMap((p) => p.values)];
        const text = `with ${parts.map((p, i) => `c${i} as (${p.text})`).join(', ')} select $1::text as marker`;
        const res = await store.db.executeQuery<{ marker: string }>(CompiledQuery.raw(text, bound));
        expect(res.rows).toEqual([{ marker: 'marker' }]);
        expect(await users()).toEqual(
          expect.arrayContaining(['p1:viewer', 'p2:viewer', 'u2:operator', 'u3:editor']),
        );
        expect(calls.statement).toBe(1);
      });

    it('cannot be one statement with an update that has no statement form', () => {
      const work = new UnitOfWork()
        .insert('users', USER_COLUMNS, user('n1'))
        .update<RoleChange>({ width: 3, write: async () => undefined }, { id: 'n1', from: 'a', to: 'b' });
      expect(work.statementValues()).toBeUndefined();
      expect(() => work.parts(store, 0)).toThrow(/no statement form/);
      expect(new UnitOfWork().statementValues()).toBe(0);
    });
  });
}
