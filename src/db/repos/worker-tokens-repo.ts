import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../dialect.js';
import type { Database, WorkerTokensTable } from '../schema.js';
import { hashToken } from './users-repo.js';
import { AtelierError } from '../../errors/atelier-error.js';

/** A registered remote worker: its name, the hash of its token, and when it was last seen. */
export type WorkerTokenRow = WorkerTokensTable;

/** Worker tokens are `atw_` + 256 random bits; API (user) tokens are `atl_…`. */
export const WORKER_TOKEN_PREFIX = 'atw_';

/** A new worker token: `atw_` + 256 random bits. */
export function generateWorkerToken(): string {
  return `${WORKER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * The bearer tokens remote workers authenticate with. A separate table from user tokens: a
 * worker token is never a user and a user token is never a worker. Only hashes are stored.
 */
export interface WorkerTokensRepo {
  /**
   * Creates a worker and returns its token (shown once). Names are unique; a name that is
   * taken, or not 1–100 letters, digits, '.', '_' or '-', is an `invalid_parameter` error.
   */
  create(name: string, now?: number): Promise<{
    id: string;
    name: string;
    token: string;
    createdAt: number;
  }>;
  /** The worker a bearer token belongs to, looked up by the token's hash. */
  findByToken(token: string): Promise<WorkerTokenRow | undefined>;
  /** Every worker, oldest first. */
  list(): Promise<WorkerTokenRow[]>;
  /** Revokes a worker's token. False when there is no such worker. */
  remove(idOrName: string): Promise<boolean>;
  /** Records that the worker was seen at `now` (the caller throttles how often). */
  touch(id: string, now: number): Promise<void>;
}

/** The WorkerTokensRepo on Kysely (SQLite or PostgreSQL). */
export function createWorkerTokensRepo(db: Kysely<Database>): WorkerTokensRepo {
  return {
    async create(name: string, now: number = Date.now()): Promise<{ id: string; name: string; token: string; createdAt: number }> {
      const trimmed = name.trim();
      if (!NAME.test(trimmed)) {
        throw new AtelierError('invalid_parameter', `Expected a worker name of letters, digits, '.', '_' or '-' (at most 100) but received '${trimmed.slice(0, 40)}'`, { field: 'name' });
      }
      const taken = () => new AtelierError('invalid_parameter', `A worker named '${trimmed}' already exists`, { field: 'name' });
      const existing = await db.selectFrom('worker_tokens').select('id').where('name', '=', trimmed).executeTakeFirst();
      if (existing) throw taken();
      const token = generateWorkerToken();
      const id = randomUUID();
      try {
        await db.insertInto('worker_tokens').values({ id, name: trimmed, token_hash: hashToken(token), created_at: now, last_seen_at: null }).execute();
      } catch (error) {
        // Another node (or CLI) created the same name between the check and the insert: the
        // unique name index refused this one.
        if (isUniqueViolation(error)) throw taken();
        throw error;
      }
      return { id, name: trimmed, token, createdAt: now };
    },

    findByToken(token: string): Promise<WorkerTokenRow | undefined> {
      return db.selectFrom('worker_tokens').selectAll().where('token_hash', '=', hashToken(token)).executeTakeFirst();
    },

    list(): Promise<WorkerTokenRow[]> {
      return db.selectFrom('worker_tokens').selectAll().orderBy('created_at').execute();
    },

    async remove(idOrName: string): Promise<boolean> {
      const result = await db.deleteFrom('worker_tokens').where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)])).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async touch(id: string, now: number): Promise<void> {
      await db.updateTable('worker_tokens').set({ last_seen_at: now }).where('id', '=', id).execute();
    },
  };
}

