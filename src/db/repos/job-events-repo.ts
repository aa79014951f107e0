import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { JobEvent, JobEventType } from '../../events/event-bus.js';

/** The durable, ordered event log of each job: SSE replays it after `Last-Event-ID`. */
export function createJobEventsRepo(db: Kysely<Database>) {
  return {
    async append(jobId: string, userId: string, type: JobEventType, data: Record<string, unknown>, at: number): Promise<JobEvent> {
      return db.transaction().execute(async (trx) => {
        const last = await trx
          .selectFrom('job_events')
          .select((eb) => eb.fn.max('seq').as('seq'))
          .where('job_id', '=', jobId)
          .executeTakeFirst();
        const seq = Number(last?.seq ?? 0) + 1;
        await trx.insertInto('job_events').values({ job_id: jobId, seq, type, data: JSON.stringify(data), created_at: at }).execute();
        return { jobId, userId, seq, type, data, at };
      });
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

export type JobEventsRepo = ReturnType<typeof createJobEventsRepo>;
