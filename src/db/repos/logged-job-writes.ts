import { sql, type Compilable, type Kysely } from 'kysely';
import type { JobEventType } from '../../events/event-bus.js';
import { dialectOf } from '../dialect.js';
import type { Database, JobRow, NewAssetRow } from '../schema.js';
import { nextEventSeq, retryOnSeqClash } from './job-events-repo.js';

/** An event a state change appended to its job's log in the same write (not announced yet). */
export interface LoggedEvent {
  readonly seq: number;
  readonly type: JobEventType;
  readonly data: Record<string, unknown>;
  readonly at: number;
}

/** A state change that touched its job: the row as written, and the event that reports it. */
export interface LoggedChange {
  readonly row: JobRow;
  readonly event: LoggedEvent;
}

/** A guarded INSERT or UPDATE on `jobs` that returns the rows it wrote (`returningAll()`). */
type JobChange = (db: Kysely<Database>) => Compilable & { execute(): Promise<JobRow[]> };

export interface LoggedWrite {
  readonly jobId: string;
  readonly change: JobChange;
  readonly event: { readonly type: JobEventType; readonly data: Record<string, unknown>; readonly at: number };
  /** Assets recorded with the change, only if it touched the job (a success). */
  readonly assets?: readonly NewAssetRow[];
}

/**
 * A job state change and the event that reports it, written together, so the log never
 * misses a change nor tells one that did not happen: on PostgreSQL as ONE statement (data-
 * modifying CTEs: one round trip where it took two to five), on SQLite in one transaction
 * (one commit instead of two). The event, and the assets, are written only when the guarded
 * change touched its row. Undefined when it did not.
 *
 * Two writers appending to one job's log at once on PostgreSQL can pick the same sequence
 * number; the loser's whole write fails on the log's key and runs again (it left nothing).
 */
export async function writeLogged(db: Kysely<Database>, write: LoggedWrite): Promise<LoggedChange | undefined> {
  return retryOnSeqClash(() => (dialectOf(db) === 'postgres' ? writeOnPostgres(db, write) : writeInTransaction(db, write)));
}

async function writeInTransaction(db: Kysely<Database>, write: LoggedWrite): Promise<LoggedChange | undefined> {
  const { jobId, event } = write;
  // Inside the caller's transaction (a guarded insert) or in one of its own.
  const inTransaction = <T>(work: (trx: Kysely<Database>) => Promise<T>) => (db.isTransaction ? work(db) : db.transaction().execute(work));
  return inTransaction(async (trx) => {
    const [row] = await write.change(trx).execute();
    if (!row) return undefined;
    if (write.assets && write.assets.length > 0) await trx.insertInto('assets').values([...write.assets]).execute();
    const { seq } = await trx
      .insertInto('job_events')
      .values({ job_id: jobId, seq: nextEventSeq(jobId), type: event.type, data: JSON.stringify(event.data), created_at: event.at })
      .returning('seq')
      .executeTakeFirstOrThrow();
    return { row, event: { ...event, seq: Number(seq) } };
  });
}

async function writeOnPostgres(db: Kysely<Database>, write: LoggedWrite): Promise<LoggedChange | undefined> {
  const { jobId, event } = write;
  const assets = write.assets ?? [];
  // Assets go in only if the change touched the job: selected from their JSON where `changed`
  // has a row. Listing the columns the rows give lets the others take their defaults.
  const columns = [...new Set(assets.flatMap((asset) => Object.keys(asset)))];
  const addAssets =
    assets.length > 0
      ? sql`, added as (
          insert into assets (${sql.join(columns.map((c) => sql.ref(c)))})
          select ${sql.join(columns.map((c) => sql.ref(`r.${c}`)))}
          from json_populate_recordset(null::assets, ${JSON.stringify(assets)}) as r
          where exists (select 1 from changed)
          returning id
        )`
      : sql``;
  const result = await sql<JobRow & { logged_seq: number }>`
    with changed as (${write.change(db)})${addAssets},
    logged as (
      insert into job_events (job_id, seq, type, data, created_at)
      select changed.id, ${nextEventSeq(jobId)}, ${event.type}, ${JSON.stringify(event.data)}, ${event.at} from changed
      returning seq
    )
    select changed.*, logged.seq as logged_seq from changed cross join logged`.execute(db);
  const first = result.rows[0];
  if (!first) return undefined;
  const { logged_seq: seq, ...row } = first;
  return { row: row as JobRow, event: { ...event, seq: Number(seq) } };
}
