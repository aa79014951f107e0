import type { Kysely } from 'kysely';
import { dialectOf } from '../dialect.js';
import type { Database } from '../schema.js';

/** A new entry of the SQL queue. */
export interface NewQueueEntry {
  readonly jobId: string;
  readonly priority: number;
  readonly lane: string;
  /** When it may first be claimed (epoch ms). */
  readonly availableAt: number;
  readonly attemptsMade: number;
  readonly maxAttempts: number;
  readonly now: number;
}

/** A leased entry: its attempt number is the count of claims so far. */
export interface ClaimedEntry {
  readonly jobId: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly leaseExpiresAt: number;
}

/** An active entry, as a sweep sees it. */
export interface HeldEntry {
  readonly jobId: string;
  readonly token: string;
  readonly lane: string;
  /** When it became claimable; untouched by claims, so it is its place in the queue. */
  readonly availableAt: number;
}

/** What becomes of an attempt being settled, decided from the entry as it is. */
export type Settlement = { readonly kind: 'remove' } | { readonly kind: 'retry'; readonly availableAt: number; readonly error: { readonly code: string; readonly message: string } };

/**
 * The rows of the SQL queue (the embedded Queue adapter, src/queue/embedded, owns what they
 * mean). Claims are one conditional UPDATE, correct when several processes share the
 * database:
 * - SQLite serialises writers, so the UPDATE's subquery and the update are one step;
 * - PostgreSQL runs claims of several nodes at once (READ COMMITTED): the subquery locks the
 *   row it picks with FOR UPDATE SKIP LOCKED, so concurrent claimers each take a different
 *   waiting row instead of queuing behind the same one and coming back empty.
 * Settling an attempt reads then writes the entry in one transaction; on PostgreSQL the read
 * locks the row (FOR UPDATE), so a worker's fail and another node's expiry sweep cannot both
 * settle the same attempt.
 */
export interface QueueEntriesRepo {
  /** Adds an entry; an entry for the same job already there is left as it is. */
  insert(entry: NewQueueEntry): Promise<void>;
  /** Leases the next claimable entry of `lanes`: highest priority, then oldest. */
  claimNext(owner: string, token: string, lanes: readonly string[], now: number, leaseMs: number): Promise<ClaimedEntry | undefined>;
  /** Moves the lease's expiry; false when `token` no longer holds the entry. */
  extendLease(jobId: string, token: string, expiresAt: number): Promise<boolean>;
  /** Removes the entry `token` holds; false when it no longer holds it. */
  removeHeld(jobId: string, token: string): Promise<boolean>;
  /** Removes the job's entry whatever its state; false when there was none. */
  remove(jobId: string): Promise<boolean>;
  /** Active entries whose lease ran out before `now`. */
  listExpired(now: number): Promise<HeldEntry[]>;
  /** Active entries leased by `owner`. */
  listHeldBy(owner: string): Promise<HeldEntry[]>;
  /**
   * Ends the attempt `token` holds, as `decide` says from the entry's attempts: removed, or
   * waiting again from `availableAt` with the error kept. Undefined when `token` no longer
   * holds the entry (somebody else settled it).
   */
  settle(jobId: string, token: string, decide: (entry: { attempts: number; maxAttempts: number }) => Settlement): Promise<{ attempts: number; lane: string; settlement: Settlement } | undefined>;
  /** Entries by state; waiting ones not claimable before `now` count as delayed. */
  counts(now: number): Promise<{ waiting: number; delayed: number; active: number }>;
}

/** The QueueEntriesRepo on Kysely (SQLite or PostgreSQL). */
export function createQueueEntriesRepo(db: Kysely<Database>): QueueEntriesRepo {
  const postgres = dialectOf(db) === 'postgres';
  const activeEntries = () => db.selectFrom('queue_entries').select(['job_id', 'lease_token', 'lane', 'available_at']).where('state', '=', 'active');
  const held = (q: ReturnType<typeof activeEntries>) => q.execute().then((rows) => rows.map((r) => ({ jobId: r.job_id, token: r.lease_token!, lane: r.lane, availableAt: r.available_at })));

  return {
    async insert(entry) {
      await db
        .insertInto('queue_entries')
        .values({
          job_id: entry.jobId,
          priority: entry.priority,
          state: 'waiting',
          available_at: entry.availableAt,
          lease_token: null,
          lease_owner: null,
          lease_expires_at: null,
          attempts: entry.attemptsMade,
          max_attempts: entry.maxAttempts,
          last_error_code: null,
          last_error_message: null,
          created_at: entry.now,
          lane: entry.lane,
        })
        .onConflict((oc) => oc.column('job_id').doNothing())
        .execute();
    },

    async claimNext(owner, token, lanes, now, leaseMs) {
      const next = db
        .selectFrom('queue_entries')
        .select('job_id')
        .where('state', '=', 'waiting')
        .where('lane', 'in', lanes)
        .where('available_at', '<=', now)
        .orderBy('priority', 'desc')
        .orderBy('available_at', 'asc')
        .orderBy('created_at', 'asc')
        .limit(1)
        .$if(postgres, (q) => q.forUpdate().skipLocked());
      const row = await db
        .updateTable('queue_entries')
        .set((eb) => ({ state: 'active', lease_token: token, lease_owner: owner, lease_expires_at: now + leaseMs, attempts: eb('attempts', '+', 1) }))
        .where('job_id', '=', next)
        .where('state', '=', 'waiting')
        .returning(['job_id', 'attempts', 'max_attempts', 'lease_expires_at'])
        .executeTakeFirst();
      return row && { jobId: row.job_id, attempt: row.attempts, maxAttempts: row.max_attempts, leaseExpiresAt: row.lease_expires_at! };
    },

    async extendLease(jobId, token, expiresAt) {
      const result = await db.updateTable('queue_entries').set({ lease_expires_at: expiresAt }).where('job_id', '=', jobId).where('lease_token', '=', token).where('state', '=', 'active').executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async removeHeld(jobId, token) {
      const result = await db.deleteFrom('queue_entries').where('job_id', '=', jobId).where('lease_token', '=', token).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async remove(jobId) {
      const result = await db.deleteFrom('queue_entries').where('job_id', '=', jobId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    listExpired: (now) => held(activeEntries().where('lease_expires_at', '<', now)),

    listHeldBy: (owner) => held(activeEntries().where('lease_owner', '=', owner)),

    async settle(jobId, token, decide) {
      return db.transaction().execute(async (trx) => {
        const entry = await trx
          .selectFrom('queue_entries')
          .select(['attempts', 'max_attempts', 'lane'])
          .where('job_id', '=', jobId)
          .where('lease_token', '=', token)
          .where('state', '=', 'active')
          // PostgreSQL: a concurrent settle waits here, then re-reads the row and finds it settled.
          .$if(postgres, (q) => q.forUpdate())
          .executeTakeFirst();
        if (!entry) return undefined;
        const settlement = decide({ attempts: entry.attempts, maxAttempts: entry.max_attempts });
        if (settlement.kind === 'remove') {
          await trx.deleteFrom('queue_entries').where('job_id', '=', jobId).execute();
        } else {
          await trx
            .updateTable('queue_entries')
            .set({
              state: 'waiting',
              available_at: settlement.availableAt,
              lease_token: null,
              lease_owner: null,
              lease_expires_at: null,
              last_error_code: settlement.error.code,
              last_error_message: settlement.error.message,
            })
            .where('job_id', '=', jobId)
            .execute();
        }
        return { attempts: entry.attempts, lane: entry.lane, settlement };
      });
    },

    async counts(now) {
      const rows = await db
        .selectFrom('queue_entries')
        .select((eb) => ['state', eb.fn.countAll<number>().as('n'), eb.fn.sum<number>(eb.case().when('available_at', '>', now).then(1).else(0).end()).as('delayed')])
        .groupBy('state')
        .execute();
      const waitingRow = rows.find((r) => r.state === 'waiting');
      const delayed = Number(waitingRow?.delayed ?? 0);
      return { waiting: Number(waitingRow?.n ?? 0) - delayed, delayed, active: Number(rows.find((r) => r.state === 'active')?.n ?? 0) };
    },
  };
}
