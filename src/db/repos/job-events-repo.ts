import type { Kysely } from 'kysely';
import { isUniqueViolation } from '../dialect.js';
import type { Database } from '../schema.js';
import type { JobEvent, JobEventType } from '../../events/event-bus.js';

/** Enough for every writer of one job (runner, cancel, workers on several nodes) to win a round. */
const MAX_SEQ_ATTEMPTS = 50;

/** The durable, ordered event log of each job: SSE replays it after `Last-Event-ID`. */
export interface JobEventsRepo {
  /**
   * Appends an event to a job's log and returns it with its sequence number: the next after
   * the job's last, gap-free and in commit order even when several nodes append at once.
   * `userId` is not stored; it is copied into the returned event for the bus.
   */
  append(jobId: string, userId: string, type: JobEventType, data: Record<string, unknown>, at: number): Promise<JobEvent>;
  /** The job's events with a sequence number above `afterSeq`, in order (`userId` is copied into each). */
  listAfter(jobId: string, userId: string, afterSeq: number): Promise<JobEvent[]>;
}

/** The JobEventsRepo on Kysely (SQLite or PostgreSQL). */
export function createJobEventsRepo(db: Kysely<Database>): JobEventsRepo {
  function insertNext(jobId: string, type: JobEventType, data: Record<string, unknown>, at: number) {
    return db
      .insertInto('job_events')
      .columns(['job_id', 'seq', 'type', 'data', 'created_at'])
      .expression((eb) =>
        eb
          .selectFrom('job_events')
          .select([
            eb.val(jobId).as('job_id'),
            eb(eb.fn.coalesce(eb.fn.max('seq'), eb.lit(0)), '+', 1).as('seq'),
            eb.val(type).as('type'),
            eb.val(JSON.stringify(data)).as('data'),
            eb.val(at).as('created_at'),
          ])
          .where('job_id', '=', jobId),
      )
      .returning('seq')
      .executeTakeFirstOrThrow();
  }

  return {
    async append(jobId: string, userId: string, type: JobEventType, data: Record<string, unknown>, at: number): Promise<JobEvent> {
      // One statement computes the next sequence number and inserts, so no transaction is
      // held open, and the (job_id, seq) key refuses a duplicate when two writers race. SQLite
      // serialises writers, so it never races; on PostgreSQL two nodes (a runner's progress and
      // another node's cancel) can both read the same max(seq) and the later insert fails with a
      // unique violation. It then simply takes the next number: each round one writer wins, so
      // the log stays gap-free and ordered by commit.
      for (let attempt = 1; ; attempt++) {
        try {
          const row = await insertNext(jobId, type, data, at);
          return { jobId, userId, seq: Number(row.seq), type, data, at };
        } catch (error) {
          if (!isUniqueViolation(error) || attempt >= MAX_SEQ_ATTEMPTS) throw error;
        }
      }
    },

    async listAfter(jobId: string, userId: string, afterSeq: number): Promise<JobEvent[]> {
      const rows = await db
        .selectFrom('job_events')
        .selectAll()
        .where('job_id', '=', jobId)
        .where('seq', '>', afterSeq)
        .orderBy('seq', 'asc')
        .execute();
      return rows.map((r) => ({ jobId, userId, seq: r.seq, type: r.type as JobEventType, data: JSON.parse(r.data), at: Number(r.created_at) }));
    },
  };
}

