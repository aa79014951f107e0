import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import type { Kysely } from 'kysely';
import { dialectOf } from '../../db/dialect.js';
import type { Database } from '../../db/schema.js';
import { retryDelayMs } from '../../jobs/backoff.js';
import { LOCAL_LANE, laneList } from '../lanes.js';
import type { EnqueueOptions, ExpiredLease, FailOutcome, Lease, Queue, QueueCounts, QueueError, RetryPolicy } from '../queue.js';

const LEASE_EXPIRED: QueueError = { code: 'lease_expired', message: 'The worker running the job stopped responding (lease expired)' };
const RECLAIMED: QueueError = { code: 'lease_expired', message: 'The node running the job stopped (it restarted and took the job back)' };

/**
 * The SQL queue: rows in the same database as the job records (SQLite or PostgreSQL), so a
 * queued job survives any crash and needs no other service. Claims are one conditional
 * UPDATE, correct when several processes share the database:
 * - SQLite serialises writers, so the UPDATE's subquery and the update are one step;
 * - PostgreSQL runs claims of several nodes at once (READ COMMITTED): the subquery locks the
 *   row it picks with FOR UPDATE SKIP LOCKED, so concurrent claimers each take a different
 *   waiting row instead of queuing behind the same one and coming back empty.
 * Settling an attempt (fail, lease expiry) reads then writes the entry; on PostgreSQL that
 * read locks the row (FOR UPDATE), so a worker's fail and another node's expiry sweep
 * cannot both settle the same attempt.
 *
 * Wake-ups are in-process only: another node's enqueue is seen at this node's next poll.
 */
export function createEmbeddedQueue(db: Kysely<Database>, policy: RetryPolicy, clock: () => number = Date.now): Queue {
  const postgres = dialectOf(db) === 'postgres';
  const wake = new EventEmitter();
  wake.setMaxListeners(0);
  // Lanes with a wake-up nobody has claimed after yet: set by every wake-up of the lane and
  // cleared by a claim on it, so a wake-up that lands while a runner is between an empty
  // claim and waitForWork is not lost.
  const pendingWake = new Set<string>();
  const notify = (lane: string) => {
    pendingWake.add(lane);
    wake.emit('work', lane);
  };

  return {
    async enqueue(jobId: string, options: EnqueueOptions) {
      const now = clock();
      await db
        .insertInto('queue_entries')
        .values({
          job_id: jobId,
          priority: options.priority,
          state: 'waiting',
          available_at: now + (options.delayMs ?? 0),
          lease_token: null,
          lease_owner: null,
          lease_expires_at: null,
          attempts: options.attemptsMade ?? 0,
          max_attempts: options.maxAttempts,
          last_error_code: null,
          last_error_message: null,
          created_at: now,
          lane: options.lane ?? LOCAL_LANE,
        })
        .onConflict((oc) => oc.column('job_id').doNothing())
        .execute();
      notify(options.lane ?? LOCAL_LANE);
    },

    async claim(workerId: string, leaseMs: number, lanes?: string | readonly string[]) {
      const list = laneList(lanes);
      for (const lane of list) pendingWake.delete(lane);
      const now = clock();
      const token = randomUUID();
      const next = db
        .selectFrom('queue_entries')
        .select('job_id')
        .where('state', '=', 'waiting')
        .where('lane', 'in', list)
        .where('available_at', '<=', now)
        .orderBy('priority', 'desc')
        .orderBy('available_at', 'asc')
        .orderBy('created_at', 'asc')
        .limit(1)
        .$if(postgres, (q) => q.forUpdate().skipLocked());
      const row = await db
        .updateTable('queue_entries')
        .set((eb) => ({
          state: 'active',
          lease_token: token,
          lease_owner: workerId,
          lease_expires_at: now + leaseMs,
          attempts: eb('attempts', '+', 1),
        }))
        .where('job_id', '=', next)
        .where('state', '=', 'waiting')
        .returning(['job_id', 'attempts', 'max_attempts', 'lease_expires_at'])
        .executeTakeFirst();
      if (!row) return undefined;
      return { jobId: row.job_id, token, attempt: row.attempts, maxAttempts: row.max_attempts, expiresAt: row.lease_expires_at! };
    },

    async heartbeat(lease: Lease, leaseMs: number) {
      const result = await db
        .updateTable('queue_entries')
        .set({ lease_expires_at: clock() + leaseMs })
        .where('job_id', '=', lease.jobId)
        .where('lease_token', '=', lease.token)
        .where('state', '=', 'active')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async complete(lease: Lease) {
      const result = await db
        .deleteFrom('queue_entries')
        .where('job_id', '=', lease.jobId)
        .where('lease_token', '=', lease.token)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async fail(lease: Lease, error: QueueError, retryable: boolean) {
      const settled = await settleAttempt(lease.jobId, lease.token, error, retryable);
      if (settled?.outcome.kind === 'retry') {
        const { lane } = settled;
        setTimeout(() => notify(lane), Math.max(0, settled.outcome.retryAt - clock())).unref();
      }
      return settled?.outcome;
    },

    async cancel(jobId: string) {
      const result = await db.deleteFrom('queue_entries').where('job_id', '=', jobId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async recoverExpired() {
      const expired = await db
        .selectFrom('queue_entries')
        .select(['job_id', 'lease_token', 'lane'])
        .where('state', '=', 'active')
        .where('lease_expires_at', '<', clock())
        .execute();
      const recovered: ExpiredLease[] = [];
      for (const entry of expired) {
        const settled = await settleAttempt(entry.job_id, entry.lease_token!, LEASE_EXPIRED, true);
        if (settled) recovered.push({ jobId: entry.job_id, outcome: settled.outcome, error: LEASE_EXPIRED });
        if (settled?.outcome.kind === 'retry') {
          const { lane } = settled;
          setTimeout(() => notify(lane), Math.max(0, settled.outcome.retryAt - clock())).unref();
        }
      }
      return recovered;
    },

    async reclaim(owner: string) {
      const held = await db
        .selectFrom('queue_entries')
        .select(['job_id', 'lease_token', 'available_at'])
        .where('state', '=', 'active')
        .where('lease_owner', '=', owner)
        .execute();
      const reclaimed: ExpiredLease[] = [];
      for (const entry of held) {
        // available_at is untouched since the claim: the entry goes back to its own place.
        const settled = await settleAttempt(entry.job_id, entry.lease_token!, RECLAIMED, true, entry.available_at);
        if (!settled) continue;
        reclaimed.push({ jobId: entry.job_id, outcome: settled.outcome, error: RECLAIMED });
        notify(settled.lane);
      }
      return reclaimed;
    },

    async counts(): Promise<QueueCounts> {
      const now = clock();
      const rows = await db
        .selectFrom('queue_entries')
        .select((eb) => [
          'state',
          eb.fn.countAll<number>().as('n'),
          eb.fn.sum<number>(eb.case().when('available_at', '>', now).then(1).else(0).end()).as('delayed'),
        ])
        .groupBy('state')
        .execute();
      const waitingRow = rows.find((r) => r.state === 'waiting');
      const delayed = Number(waitingRow?.delayed ?? 0);
      return {
        waiting: Number(waitingRow?.n ?? 0) - delayed,
        delayed,
        active: Number(rows.find((r) => r.state === 'active')?.n ?? 0),
      };
    },

    async waitForWork(timeoutMs: number, signal?: AbortSignal, lanes?: string | readonly string[]) {
      const list = laneList(lanes);
      if (list.some((lane) => pendingWake.has(lane))) return;
      const timeout = AbortSignal.timeout(timeoutMs);
      const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        // Wake-ups of other lanes are skipped: they would only make this caller poll in vain.
        for await (const [lane] of on(wake, 'work', { signal: stop })) {
          if (list.includes(lane as string)) return;
        }
      } catch {
        // Timed out or aborted: the caller polls again either way.
      }
    },

    async close() {
      wake.removeAllListeners();
    },
  };

  /** Ends one attempt: back to waiting after backoff, or removed when it may not retry. */
  async function settleAttempt(jobId: string, token: string, error: QueueError, retryable: boolean, availableAt?: number): Promise<{ outcome: FailOutcome; lane: string } | undefined> {
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
      if (!retryable || entry.attempts >= entry.max_attempts) {
        await trx.deleteFrom('queue_entries').where('job_id', '=', jobId).execute();
        return { outcome: { kind: 'failed', attempt: entry.attempts } as const, lane: entry.lane };
      }
      const retryAt = availableAt ?? clock() + retryDelayMs(entry.attempts, policy.backoffBaseMs, policy.backoffMaxMs);
      await trx
        .updateTable('queue_entries')
        .set({
          state: 'waiting',
          available_at: retryAt,
          lease_token: null,
          lease_owner: null,
          lease_expires_at: null,
          last_error_code: error.code,
          last_error_message: error.message,
        })
        .where('job_id', '=', jobId)
        .execute();
      return { outcome: { kind: 'retry', retryAt: availableAt === undefined ? retryAt : clock(), attempt: entry.attempts } as const, lane: entry.lane };
    });
  }
}
