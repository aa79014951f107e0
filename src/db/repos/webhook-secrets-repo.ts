import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/**
 * Each user's webhook signing secret (migration 0009). Stored as given (it must be readable to
 * sign with); the repository never makes one up — callers say how (src/webhooks/webhook-secret.ts).
 */
export interface WebhookSecretsRepo {
  /**
   * The user's secret. When there is none yet, one made by `fresh` becomes it — unless another
   * request or node created one at the same moment, whose secret is then returned to both.
   */
  getOrCreate(userId: string, fresh: () => string, now: number): Promise<string>;
  /** Makes `secret` the user's secret from now on, replacing any earlier one. */
  replace(userId: string, secret: string, now: number): Promise<void>;
}

/** The WebhookSecretsRepo on Kysely (SQLite or PostgreSQL). */
export function createWebhookSecretsRepo(db: Kysely<Database>): WebhookSecretsRepo {
  const find = (userId: string) => db.selectFrom('webhook_secrets').select('secret').where('user_id', '=', userId).executeTakeFirst();
  return {
    async getOrCreate(userId: string, fresh: () => string, now: number): Promise<string> {
      const existing = await find(userId);
      if (existing) return existing.secret;
      await db
        .insertInto('webhook_secrets')
        .values({ user_id: userId, secret: fresh(), created_at: now })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .execute();
      return (await find(userId))!.secret;
    },

    async replace(userId: string, secret: string, now: number): Promise<void> {
      await db
        .insertInto('webhook_secrets')
        .values({ user_id: userId, secret, created_at: now })
        .onConflict((oc) => oc.column('user_id').doUpdateSet({ secret, created_at: now }))
        .execute();
    },
  };
}
