import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';
import type { Database, UserRow } from '../schema.js';

/** API tokens are 256-bit random strings; only their sha256 is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new API (user) token: `atl_` + 256 random bits. */
export function generateToken(): string {
  return `atl_${randomBytes(32).toString('base64url')}`;
}

/** A live user and how many API tokens it holds (the admin list). */
export interface UserSummary extends UserRow {
  readonly tokens: number;
}

/** What {@link UsersRepo.remove} did. */
export type RemoveOutcome = 'removed' | 'not_found' | 'last_admin';

/**
 * Users and their bearer tokens. Only live users are ever returned: a removed one keeps its
 * row (its runs reference it) but has no tokens and is found by nothing here.
 */
export interface UsersRepo {
  /** How many live admin users exist (the first start creates one when there is none). */
  countAdmins(): Promise<number>;
  /** The live user with this exact name. */
  findByName(name: string): Promise<UserRow | undefined>;
  /** The live user with this id. */
  findById(id: string): Promise<UserRow | undefined>;
  /** Every live user with its token count, oldest first. */
  list(): Promise<UserSummary[]>;
  /** Creates a user with a new id; a name a live user has is a unique violation. */
  create(name: string, role: 'admin' | 'user', now: number): Promise<UserRow>;
  /** Adds a token for the user; pass one to register a known token (ATELIER_ADMIN_TOKEN). */
  addToken(userId: string, label: string, now: number, token?: string): Promise<string>;
  /** Deletes every token of the user, then adds a new one, in one transaction; returns it and how many went. */
  replaceTokens(userId: string, label: string, now: number): Promise<{ token: string; revoked: number }>;
  /**
   * Removes a live user: marks it removed and deletes every token it has, in one transaction.
   * Refuses (`last_admin`, nothing changed) to remove the last live admin; removals of two
   * admins at once are ordered by a lock on the admin rows (PostgreSQL) or by SQLite's writer lock.
   */
  remove(id: string, now: number): Promise<RemoveOutcome>;
  /** The live user a bearer token belongs to, looked up by the token's hash. */
  findByToken(token: string): Promise<UserRow | undefined>;
}

const USER_COLUMNS = ['users.id', 'users.name', 'users.role', 'users.created_at'] as const;

/** Thrown inside a transaction to roll it back. */
class LastAdmin extends Error {}

/** The UsersRepo on Kysely (SQLite or PostgreSQL). */
export function createUsersRepo(db: Kysely<Database>): UsersRepo {
  const live = () => db.selectFrom('users').select(USER_COLUMNS).where('users.deleted_at', 'is', null);
  const insertToken = (trx: Kysely<Database>, userId: string, label: string, now: number, token: string) =>
    trx
      .insertInto('api_tokens')
      .values({ id: randomUUID(), user_id: userId, token_hash: hashToken(token), label, created_at: now, last_used_at: null })
      .onConflict((oc) => oc.column('token_hash').doNothing())
      .execute();

  return {
    async countAdmins(): Promise<number> {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('role', '=', 'admin')
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    findByName(name: string): Promise<UserRow | undefined> {
      return live().where('users.name', '=', name).executeTakeFirst();
    },

    findById(id: string): Promise<UserRow | undefined> {
      return live().where('users.id', '=', id).executeTakeFirst();
    },

    async list(): Promise<UserSummary[]> {
      const rows = await live()
        .leftJoin('api_tokens', 'api_tokens.user_id', 'users.id')
        .select((eb) => eb.fn.count<number>('api_tokens.id').as('tokens'))
        .groupBy(USER_COLUMNS)
        .orderBy('users.created_at')
        .orderBy('users.id')
        .execute();
      return rows.map((row) => ({ ...row, created_at: Number(row.created_at), tokens: Number(row.tokens) }));
    },

    async create(name: string, role: 'admin' | 'user', now: number): Promise<UserRow> {
      const user: UserRow = { id: randomUUID(), name, role, created_at: now };
      await db.insertInto('users').values(user).execute();
      return user;
    },

    async addToken(userId: string, label: string, now: number, token: string = generateToken()): Promise<string> {
      await insertToken(db, userId, label, now, token);
      return token;
    },

    async replaceTokens(userId: string, label: string, now: number): Promise<{ token: string; revoked: number }> {
      const token = generateToken();
      return db.transaction().execute(async (trx) => {
        const deleted = await trx.deleteFrom('api_tokens').where('user_id', '=', userId).executeTakeFirst();
        await insertToken(trx, userId, label, now, token);
        return { token, revoked: Number(deleted.numDeletedRows) };
      });
    },

    async remove(id: string, now: number): Promise<RemoveOutcome> {
      const postgres = dialectOf(db) === 'postgres';
      try {
        return await db.transaction().execute(async (trx) => {
          // Two admins removed at once must not both see the other still there.
          if (postgres) await trx.selectFrom('users').select('id').where('role', '=', 'admin').where('deleted_at', 'is', null).orderBy('id').forUpdate().execute();
          const removed = await trx.updateTable('users').set({ deleted_at: now }).where('id', '=', id).where('deleted_at', 'is', null).returning(['role']).executeTakeFirst();
          if (!removed) return 'not_found';
          if (removed.role === 'admin') {
            const left = await trx.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').where('deleted_at', 'is', null).executeTakeFirstOrThrow();
            if (Number(left.n) === 0) throw new LastAdmin();
          }
          await trx.deleteFrom('api_tokens').where('user_id', '=', id).execute();
          return 'removed';
        });
      } catch (error) {
        if (error instanceof LastAdmin) return 'last_admin';
        throw error;
      }
    },

    findByToken(token: string): Promise<UserRow | undefined> {
      return live().innerJoin('api_tokens', 'api_tokens.user_id', 'users.id').where('api_tokens.token_hash', '=', hashToken(token)).executeTakeFirst();
    },
  };
}
