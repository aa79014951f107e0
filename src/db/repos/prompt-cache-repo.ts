import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/** One prompt-cache entry: the run `job_id` serves identical requests until `expires_at`. */
export interface PromptCacheEntry {
  readonly id: string;
  readonly user_id: string;
  readonly job_id: string;
  readonly created_at: number;
  readonly expires_at: number;
}

/** Rows of the prompt cache; which assets an entry serves come from its job. */
export interface PromptCacheRepo {
  /** Records an entry under both keys: the exact request (`seed_hash`) and the request with any seed (`any_seed_hash`). */
  insert(entry: PromptCacheEntry & {
    seed_hash: string;
    any_seed_hash: string;
  }): Promise<void>;
  /** The newest live entries for a key, newest first (the caller checks they still serve). */
  find(hash: string, seedAgnostic: boolean, now: number, userId: string | undefined): Promise<PromptCacheEntry[]>;
  /** Adds one to the entry's hit count, atomically (several nodes may hit it at once). */
  countHit(id: string): Promise<void>;
  /** Removes the entry (its run's assets are gone, so it can never serve again). */
  delete(id: string): Promise<void>;
}

/** The PromptCacheRepo on Kysely (SQLite or PostgreSQL). */
export function createPromptCacheRepo(db: Kysely<Database>): PromptCacheRepo {
  return {
    async insert(entry: PromptCacheEntry & { seed_hash: string; any_seed_hash: string }): Promise<void> {
      await db.insertInto('prompt_cache').values({ ...entry, hits: 0 }).execute();
    },

    find(hash: string, seedAgnostic: boolean, now: number, userId: string | undefined): Promise<PromptCacheEntry[]> {
      return db
        .selectFrom('prompt_cache')
        .select(['id', 'user_id', 'job_id', 'created_at', 'expires_at'])
        .where(seedAgnostic ? 'any_seed_hash' : 'seed_hash', '=', hash)
        .where('expires_at', '>', now)
        .$if(userId !== undefined, (q) => q.where('user_id', '=', userId!))
        .orderBy('created_at', 'desc')
        .limit(5)
        .execute();
    },

    async countHit(id: string): Promise<void> {
      await db.updateTable('prompt_cache').set((eb) => ({ hits: eb('hits', '+', 1) })).where('id', '=', id).execute();
    },

    async delete(id: string): Promise<void> {
      await db.deleteFrom('prompt_cache').where('id', '=', id).execute();
    },
  };
}

