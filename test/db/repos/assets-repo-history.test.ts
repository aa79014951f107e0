import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/db/create-db.js';
import { createAssetsRepo, type AssetsRepo } from '../../../src/db/repos/assets-repo.js';
import { createJobsRepo, type JobsRepo } from '../../../src/db/repos/jobs-repo.js';
import type { JobRow } from '../../../src/db/schema.js';
import { assetRow, insertUser, jobRow } from '../rows.js';
import { DIALECTS } from './dialects.js';

const T0 = 1_767_225_600_000;

describe.each(DIALECTS)('history search by prompt on $name (AssetsRepo.historyPage)', (dialect) => {
  let db: { handle: DatabaseHandle; cleanup(): Promise<void> };
  let jobs: JobsRepo;
  let assets: AssetsRepo;
  let userId: string;
  let minute = 0;

  beforeEach(async () => {
    db = await dialect.open();
    jobs = createJobsRepo(db.handle.db);
    assets = createAssetsRepo(db.handle.db);
    userId = (await insertUser(db.handle.db)).id;
  });
  afterEach(async () => {
    await db.cleanup();
  });

  /** A finished job with `images` workspace images, each a minute newer than the last job's. */
  async function made(prompt: string, images = 1, owner = userId): Promise<JobRow> {
    minute += 1;
    const job = jobRow(owner, { prompt, status: 'succeeded', created_at: T0 + minute * 60_000 });
    await jobs.insert(job);
    for (let i = 0; i < images; i++) await assets.insert(assetRow(job, i));
    return job;
  }

  const prompts = async (prompt: string | undefined, page = 1, perPage = 20) => {
    const result = await assets.historyPage(userId, 'image', page, perPage, prompt === undefined ? {} : { prompt });
    return { prompts: result.rows.map((r) => r.prompt), total: result.total };
  };

  it('finds prompts containing the text in any case, newest first, counting only the matches', async () => {
    await made('A Lighthouse at dusk', 2);
    await made('a red fox in snow');
    await made('lighthouse, storm, LIGHTHOUSE keeper');
    await made('a lighthouse', 1, (await insertUser(db.handle.db)).id); // someone else's
    expect(await prompts('lightHOUSE')).toEqual({ prompts: ['lighthouse, storm, LIGHTHOUSE keeper', 'A Lighthouse at dusk', 'A Lighthouse at dusk'], total: 3 });
    expect(await prompts('fox')).toEqual({ prompts: ['a red fox in snow'], total: 1 });
    expect(await prompts('whale')).toEqual({ prompts: [], total: 0 });
    expect((await prompts(undefined)).total).toBe(4);
  });

  it('pages through the matches only', async () => {
    for (let i = 0; i < 5; i++) await made(`cat number ${i}`);
    await made('a dog');
    expect(await prompts('CAT', 1, 2)).toEqual({ prompts: ['cat number 4', 'cat number 3'], total: 5 });
    expect(await prompts('CAT', 3, 2)).toEqual({ prompts: ['cat number 0'], total: 5 });
  });

  it('takes %, _ and \\ as the characters themselves, not as wildcards', async () => {
    await made('100% cotton');
    await made('1000 cotton balls');
    await made('snake_case');
    await made('snakeXcase');
    await made('back\\slash');
    await made('backslash');
    expect(await prompts('0%')).toEqual({ prompts: ['100% cotton'], total: 1 });
    expect(await prompts('%')).toEqual({ prompts: ['100% cotton'], total: 1 });
    expect(await prompts('e_c')).toEqual({ prompts: ['snake_case'], total: 1 });
    expect(await prompts('k\\s')).toEqual({ prompts: ['back\\slash'], total: 1 });
  });

  it('combines the search with the collection filter', async () => {
    const job = await made('a tower', 1);
    await assets.insert(assetRow(job, 0, { collection: 'library' }));
    await made('another tower');
    const library = await assets.historyPage(userId, 'image', 1, 20, { collection: 'library', prompt: 'TOWER' });
    expect(library.rows.map((r) => [r.prompt, r.collection])).toEqual([['a tower', 'library']]);
    expect(library.total).toBe(1);
  });
});
