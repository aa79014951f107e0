import { sql, type Kysely } from 'kysely';
import { isUniqueViolation } from '../dialect.js';
import type { Database } from '../schema.js';
import type { JobEvent, JobEventType } from '../../events/event-bus.js';

/** Enough for every writer of one job (runner, cancel, workers on several nodes) to win a round. */
const MAX_SEQ_ATTEMPTS = 50;

/** The next sequence number of `jobId`'s log, computed by the statement that appends it. */
export const nextEventSeq = (jobId: string) => sql<number>`(select coalesce(max(seq), 0) + 1 from job_events where job_id = ${jobId})`;

/**
 * Runs a write that appends to a job's log again when a concurrent writer took the same
 * sequence number. SQLite serialises writers, so it never races; on PostgreSQL two nodes (a
 * runner's progress and another node's cancel) can both read the same max(seq), and the
 * later insert fails on the log's key. The write is one statement or one transaction, so the
 * failed round left nothing; it simply takes the next number. Each round one writer wins, so
 * the log stays gap-free and ordered by commit.
 */
export async function retryOnSeqClash<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isUniqueViolation(error) || (error as { constraint?: string }).constraint !== JOB_EVENTS_KEY || attempt >= MAX_SEQ_ATTEMPTS) throw error;
    }
  }
}

/** The (job_id, seq) primary key of job_events, as PostgreSQL names it in a violation. */
const JOB_EVENTS_KEY = 'job_events_pk';

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
      .values({ job_id: jobId, seq: nextEventSeq(jobId), type, data: JSON.stringify(data), created_at: at })
      .returning('seq')
      .executeTakeFirstOrThrow();
  }

  return {
    async append(jobId: string, userId: string, type: JobEventType, data: Record<string, unknown>, at: number): Promise<JobEvent> {
      // One statement computes the next sequence number and inserts, so no transaction is
      // held open, and the (job_id, seq) key refuses a duplicate when two writers race.
      const row = await retryOnSeqClash(() => insertNext(jobId, type, data, at));
      return { jobId, userId, seq: Number(row.seq), type, data, at };
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

