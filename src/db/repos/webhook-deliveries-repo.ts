import type { Kysely, Selectable } from 'kysely';
import { dialectOf } from '../dialect.js';
import type { Database, WebhookAttemptsTable, WebhookDeliveriesTable } from '../schema.js';

export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookAttemptRow = Selectable<WebhookAttemptsTable>;

/** A delivery this node claimed: its row as the claim left it (`attempts` counts this one). */
export type ClaimedDelivery = WebhookDeliveryRow;

/** How a claimed attempt ended, and what becomes of the delivery. */
export type DeliverySettlement =
  | { readonly state: 'delivered' }
  | { readonly state: 'pending'; readonly nextAttemptAt: number }
  | { readonly state: 'failed' };

/** The record of one finished attempt. */
export interface AttemptRecord {
  readonly startedAt: number;
  readonly durationMs: number;
  /** The receiver's HTTP status; null when it gave none (refused, timed out, blocked). */
  readonly statusCode: number | null;
  /** Why the attempt failed; null when it succeeded. */
  readonly error: string | null;
}

/**
 * Webhook deliveries (migration 0009). Rows are created by a trigger on `jobs` together with
 * the status change they report; this repository claims, settles and lists them.
 *
 * A claim is a conditional UPDATE of due rows — on PostgreSQL over rows picked `FOR UPDATE
 * SKIP LOCKED`, so nodes claiming at once take different rows without waiting on each other;
 * SQLite runs one writer at a time. Claiming counts an attempt and pushes the row's due time
 * to the claim's expiry: if the claimant dies mid-attempt, the row is due again then, for any
 * node (or at once for the same node restarted, {@link WebhookDeliveriesRepo.reclaim}).
 */
export interface WebhookDeliveriesRepo {
  /** Claims up to `limit` deliveries due at `now` for `owner`, until `claimUntil`, oldest due first. */
  claimDue(owner: string, now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records how a claimed attempt ended, and the attempt itself, in one transaction. False
   * (nothing written) when the claim no longer holds: it expired and another node took the row.
   */
  settle(claim: ClaimedDelivery, owner: string, settlement: DeliverySettlement, attempt: AttemptRecord, now: number): Promise<boolean>;
  /** Makes the in-flight claims of `owner` (this node before a restart) due at `now`. Returns how many. */
  reclaim(owner: string, now: number): Promise<number>;
  /** A run's deliveries, oldest first, each with its finished attempts in order. */
  listForJob(jobId: string): Promise<(WebhookDeliveryRow & { readonly history: WebhookAttemptRow[] })[]>;
}

/** The WebhookDeliveriesRepo on Kysely (SQLite or PostgreSQL). */
export function createWebhookDeliveriesRepo(db: Kysely<Database>): WebhookDeliveriesRepo {
  const postgres = dialectOf(db) === 'postgres';
  return {
    claimDue(owner: string, now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]> {
      const due = db.selectFrom('webhook_deliveries').select('id').where('state', '=', 'pending').where('next_attempt_at', '<=', now).orderBy('next_attempt_at').limit(limit);
      return db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ attempts: eb('attempts', '+', 1), claimed_by: owner, next_attempt_at: claimUntil, last_attempt_at: now }))
        .where('id', 'in', postgres ? due.forUpdate().skipLocked() : due)
        // Checked again on the row as it is now, not as the subquery saw it.
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .returningAll()
        .execute();
    },

    settle(claim: ClaimedDelivery, owner: string, settlement: DeliverySettlement, attempt: AttemptRecord, now: number): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('webhook_deliveries')
          .set({
            state: settlement.state,
            next_attempt_at: settlement.state === 'pending' ? settlement.nextAttemptAt : null,
            claimed_by: null,
            last_status: attempt.statusCode,
            last_error: attempt.error,
            ...(settlement.state === 'delivered' ? { delivered_at: now } : {}),
          })
          .where('id', '=', claim.id)
          .where('state', '=', 'pending')
          .where('claimed_by', '=', owner)
          .where('attempts', '=', claim.attempts)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await trx
          .insertInto('webhook_attempts')
          .values({ delivery_id: claim.id, attempt: claim.attempts, started_at: attempt.startedAt, duration_ms: Math.round(attempt.durationMs), status_code: attempt.statusCode, error: attempt.error })
          .execute();
        return true;
      });
    },

    async reclaim(owner: string, now: number): Promise<number> {
      const result = await db.updateTable('webhook_deliveries').set({ next_attempt_at: now, claimed_by: null }).where('state', '=', 'pending').where('claimed_by', '=', owner).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async listForJob(jobId: string) {
      const rows = await db.selectFrom('webhook_deliveries').selectAll().where('job_id', '=', jobId).execute();
      // `running` before the terminal event even when both were written in the same millisecond.
      const deliveries = rows.sort((a, b) => a.created_at - b.created_at || Number(b.event === 'running') - Number(a.event === 'running'));
      if (deliveries.length === 0) return [];
      const attempts = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where(
          'delivery_id',
          'in',
          deliveries.map((d) => d.id),
        )
        .orderBy('attempt')
        .execute();
      return deliveries.map((delivery) => ({ ...delivery, history: attempts.filter((a) => a.delivery_id === delivery.id) }));
    },
  };
}
