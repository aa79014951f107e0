import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface PromptCacheEntry {
  readonly id: string;
  readonly user_id: string;
  readonly job_id: string;
  readonly created_at: number;
  readonly expires_at: number;
}

/** Rows of the prompt cache; which assets an entry serves come from its job. */
export interface PromptCacheRepo {
  insert(entry: PromptCacheEntry & {
    seed_hash: string;
    any_seed_hash: string;
  }): Promise<void>;
  /** The newest live entries for a key, newest first (the caller checks they still serve). */
  find(hash: string, seedAgnostic: boolean, now: number, userId: string | undefined): Promise<PromptCacheEntry[]>;
  countHit(id: string): Promise<void>;
  delete(id: string): Promise<void>;
}

/** The PromptCacheRepo on Kysely (SQLite or PostgreSQL). */
export function createPromptCacheRepo(db: Kysely<Database>): PromptCacheRepo {
  return {
    async insert(entry: PromptCacheEntry & { seed_hash: string; any_seed_hash: string }): Promise<void> {
      await db.insertInto('prompt_cache').values({ ...entry, hits: 0 }).execute();
    },

    /** The newest live entries for a key, newest first (the caller checks they still serve). */
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

