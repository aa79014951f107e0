import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/db/create-db.js';
import { createJobsRepo, type JobsRepo } from '../../../src/db/repos/jobs-repo.js';
import { listRuns } from '../../../src/service/run-list.js';
import { insertUser, jobRow } from '../rows.js';
import { DIALECTS } from './dialects.js';

const T0 = 1_767_225_600_000;

describe.each(DIALECTS)("every user's runs on $name (the admin listing: JobsRepo.listForUser without a user)", (dialect) => {
  let db: { handle: DatabaseHandle; cleanup(): Promise<void> };
  let jobs: JobsRepo;
  beforeEach(async () => {
    db = await dialect.open();
    jobs = createJobsRepo(db.handle.db);
  });
  afterEach(async () => {
    await db.cleanup();
  });

  it("pages through every user's runs newest first, ties broken by id, filters applying", async () => {
    const ann = (await insertUser(db.handle.db)).id;
    const bob = (await insertUser(db.handle.db)).id;
    for (const [id, user, at, status] of [
      ['a', ann, 1, 'succeeded'],
      ['b', bob, 2, 'failed'],
      ['c', ann, 2, 'failed'],
      ['d', bob, 3, 'running'],
    ] as const) {
      await jobs.insert(jobRow(user, { id, created_at: T0 + at, status }));
    }
    const walk = async (filters: { status?: 'failed' } = {}) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listRuns(jobs, undefined, { limit: 1, ...filters, ...(cursor ? { cursor } : {}) });
        ids.push(...page.jobs.map((job) => job.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    expect(await walk()).toEqual(['d', 'c', 'b', 'a']);
    expect(await walk({ status: 'failed' })).toEqual(['c', 'b']);
    expect((await listRuns(jobs, ann, { limit: 10 })).jobs.map((job) => job.id)).toEqual(['c', 'a']);
  });

  it('reads a page through the (created_at, id) index instead of sorting the table', async () => {
    const plan =
      db.handle.dialect === 'sqlite'
        ? (await sql<{ detail: string }>`explain query plan select * from jobs order by created_at desc, id desc limit 5`.execute(db.handle.db)).rows.map((r) => r.detail).join('\n')
        : // An empty table is cheaper to sort than to walk an index: ask what PostgreSQL would do
          // with a large one (sorting priced out), which it can only do with the index.
          await db.handle.db.transaction().execute(async (tx) => {
            await sql`set local enable_sort = off`.execute(tx);
            return (await sql<{ 'QUERY PLAN': string }>`explain select * from jobs order by created_at desc, id desc limit 5`.execute(tx)).rows.map((r) => r['QUERY PLAN']).join('\n');
          });
    expect(plan).toContain('jobs_created_idx');
  });
});
