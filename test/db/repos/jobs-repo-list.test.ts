import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/db/create-db.js';
import { createJobsRepo, type JobsRepo } from '../../../src/db/repos/jobs-repo.js';
import type { JobRow } from '../../../src/db/schema.js';
import { listRuns } from '../../../src/service/run-list.js';
import { insertUser, jobRow } from '../rows.js';
import { DIALECTS } from './dialects.js';

const T0 = 1_767_225_600_000;

describe.each(DIALECTS)('run listing on $name (JobsRepo.listForUser + listRuns)', (dialect) => {
  let db: { handle: DatabaseHandle; cleanup(): Promise<void> };
  let jobs: JobsRepo;
  let userId: string;
  beforeEach(async () => {
    db = await dialect.open();
    jobs = createJobsRepo(db.handle.db);
    userId = (await insertUser(db.handle.db)).id;
  });
  afterEach(async () => {
    await db.cleanup();
  });

  async function add(overrides: Partial<JobRow>): Promise<JobRow> {
    const row = jobRow(userId, overrides);
    await jobs.insert(row);
    return row;
  }

  async function walk(limit: number, filters: Record<string, string> = {}, between: () => Promise<void> = async () => {}): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listRuns(jobs, userId, { limit, ...filters, ...(cursor ? { cursor } : {}) });
      expect(page.jobs.length).toBeLessThanOrEqual(limit);
      ids.push(...page.jobs.map((j) => j.id));
      if (page.nextCursor === null) return ids;
      cursor = page.nextCursor;
      await between();
    }
  }

  it('lists newest first, ties in created_at broken by id (descending), in every status', async () => {
    const rows = [
      await add({ id: 'a', created_at: T0 + 1, status: 'succeeded' }),
      await add({ id: 'c', created_at: T0 + 2, status: 'failed' }),
      await add({ id: 'b', created_at: T0 + 2, status: 'canceled' }),
      await add({ id: 'd', created_at: T0 + 2, status: 'queued' }),
      await add({ id: 'e', created_at: T0 + 3, status: 'running' }),
    ];
    await insertUser(db.handle.db).then((other) => jobs.insert(jobRow(other.id, { id: 'other', created_at: T0 + 9 })));
    const expected = ['e', 'd', 'c', 'b', 'a'];
    expect((await jobs.listForUser({ userId, limit: 10 })).map((j) => j.id)).toEqual(expected);
    for (const limit of [1, 2, 3, 5]) expect(await walk(limit)).toEqual(expected);
    expect(rows).toHaveLength(5);
    // Numbers stay numbers on both dialects.
    expect(typeof (await jobs.listForUser({ userId, limit: 1 }))[0]!.created_at).toBe('number');
  });

  it('filters by status, mode and model', async () => {
    await add({ id: 'j1', created_at: T0 + 1, status: 'failed', mode: 't2i', model: 'preview' });
    await add({ id: 'j2', created_at: T0 + 2, status: 'succeeded', mode: 'i2i', model: 'preview' });
    await add({ id: 'j3', created_at: T0 + 3, status: 'failed', mode: 'i2i', model: 'sdxl' });
    const ids = async (q: Record<string, string>) => (await jobs.listForUser({ userId, limit: 10, ...q })).map((j) => j.id);
    expect(await ids({ status: 'failed' })).toEqual(['j3', 'j1']);
    expect(await ids({ mode: 'i2i' })).toEqual(['j3', 'j2']);
    expect(await ids({ model: 'preview' })).toEqual(['j2', 'j1']);
    expect(await ids({ status: 'failed', mode: 'i2i', model: 'sdxl' })).toEqual(['j3']);
    expect(await walk(1, { status: 'failed' })).toEqual(['j3', 'j1']);
  });

  it('a cursor stays exact while newer runs are inserted between pages', async () => {
    for (let i = 0; i < 6; i++) await add({ id: `r${i}`, created_at: T0 + i * 10 });
    let n = 0;
    const seen = await walk(2, {}, async () => {
      n++;
      await add({ id: `new${n}`, created_at: T0 + 1000 + n });
    });
    expect(seen).toEqual(['r5', 'r4', 'r3', 'r2', 'r1', 'r0']);
    expect(n).toBe(2);
  });

  it('refuses a cursor that is not one of its own', async () => {
    for (const cursor of ['x', '!!!', Buffer.from('{}').toString('base64url'), Buffer.from('[-1,"a"]').toString('base64url'), Buffer.from('[1,""]').toString('base64url')]) {
      await expect(listRuns(jobs, userId, { limit: 2, cursor })).rejects.toMatchObject({ code: 'invalid_parameter', field: 'cursor' });
    }
  });
});
