import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../schema.js';

/** API tokens are 256-bit random strings; only their sha256 is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A new API (user) token: `atl_` + 256 random bits. */
export function generateToken(): string {
  return `atl_${randomBytes(32).toString('base64url')}`;
}

/** Users and their bearer tokens. */
export interface UsersRepo {
  /** How many admin users exist (the first start creates one when there is none). */
  countAdmins(): Promise<number>;
  /** The user with this exact name. */
  findByName(name: string): Promise<UserRow | undefined>;
  /** Creates a user with a new id; a name already taken is a unique violation. */
  create(name: string, role: 'admin' | 'user', now: number): Promise<UserRow>;
  /** Adds a token for the user; pass one to register a known token (ATELIER_ADMIN_TOKEN). */
  addToken(userId: string, label: string, now: number, token?: string): Promise<string>;
  /** The user a bearer token belongs to, looked up by the token's hash. */
  findByToken(token: string): Promise<UserRow | undefined>;
}

/** The UsersRepo on Kysely (SQLite or PostgreSQL). */
export function createUsersRepo(db: Kysely<Database>): UsersRepo {
  return {
    async countAdmins(): Promise<number> {
      const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('role', '=', 'admin').executeTakeFirstOrThrow();
      return Number(row.n);
    },

    findByName(name: string): Promise<UserRow | undefined> {
      return db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    },

    async create(name: string, role: 'admin' | 'user', now: number): Promise<UserRow> {
      const user: UserRow = { id: randomUUID(), name, role, created_at: now };
      await db.insertInto('users').values(user).execute();
      return user;
    },

    async addToken(userId: string, label: string, now: number, token: string = generateToken()): Promise<string> {
      await db
        .insertInto('api_tokens')
        .values({ id: randomUUID(), user_id: userId, token_hash: hashToken(token), label, created_at: now, last_used_at: null })
        .onConflict((oc) => oc.column('token_hash').doNothing())
        .execute();
      return token;
    },

    async findByToken(token: string): Promise<UserRow | undefined> {
      return db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .selectAll('users')
        .where('api_tokens.token_hash', '=', hashToken(token))
        .executeTakeFirst();
    },
  };
}

