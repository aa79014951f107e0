import { createQueueEntriesRepo } from '../../../src/db/repos/queue-entries-repo.js';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../../src/db/create-db.js';
import { createEmbeddedQueue } from '../../../src/queue/embedded/embedded-queue.js';
import { queueContract } from '../../contract/queue-contract.js';
import { testSchema } from '../../helpers/postgres.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

const POLICY = { backoffBaseMs: 1000, backoffMaxMs: 8000 };

queueContract('embedded (SQLite)', async () => {
  const tmp = await makeTempDir();
  const handle = await createDatabase(`sqlite:${join(tmp.dir, 'queue.db')}`);
  let now = 1_700_000_000_000;
  const queue = createEmbeddedQueue(createQueueEntriesRepo(handle.db), POLICY, () => now);
  return {
    queue,
    advance: (ms) => {
      now += ms;
    },
    cleanup: async () => {
      await queue.close();
      await handle.close();
      await tmp.remove();
    },
  };
});

// PostgreSQL: one schema for this file (migrated once), emptied after every test.
const schema = testSchema();
let postgres: Promise<DatabaseHandle> | undefined;
afterAll(async () => {
  if (postgres) await (await postgres).close();
  await schema.drop();
});

queueContract('embedded (PostgreSQL)', async () => {
  postgres ??= createDatabase(schema.url);
  const handle = await postgres;
  let now = 1_700_000_000_000;
  const queue = createEmbeddedQueue(createQueueEntriesRepo(handle.db), POLICY, () => now);
  return {
    queue,
    advance: (ms) => {
      now += ms;
    },
    cleanup: async () => {
      await queue.close();
      await handle.db.deleteFrom('queue_entries').execute();
    },
  };
});

describe('embedded queue wake-ups', () => {
  it('gives each new entry to one waiting runner, not to all of them', async () => {
    const tmp = await makeTempDir();
    const handle = await createDatabase(`sqlite:${join(tmp.dir, 'queue.db')}`);
    const queue = createEmbeddedQueue(createQueueEntriesRepo(handle.db), POLICY);
    try {
      const woken: string[] = [];
      const runners = ['a', 'b', 'c'].map((name) => queue.waitForWork(60_000).then(() => woken.push(name)));
      await queue.enqueue('j1', { priority: 0, maxAttempts: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(woken).toEqual(['a']);
      await queue.enqueue('j2', { priority: 0, maxAttempts: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(woken).toEqual(['a', 'b']);
      // Closing releases whoever still waits.
      await queue.close();
      await Promise.all(runners);
      expect(woken).toEqual(['a', 'b', 'c']);
    } finally {
      await handle.close();
      await tmp.remove();
    }
  });

  it('keeps a wake-up that finds no runner waiting for the next one that asks', async () => {
    const tmp = await makeTempDir();
    const handle = await createDatabase(`sqlite:${join(tmp.dir, 'queue.db')}`);
    const queue = createEmbeddedQueue(createQueueEntriesRepo(handle.db), POLICY);
    try {
      await queue.enqueue('j1', { priority: 0, maxAttempts: 1 });
      // Returns at once instead of waiting out the minute.
      await queue.waitForWork(60_000);
      expect(await queue.claim('w', 1000)).toMatchObject({ jobId: 'j1' });
    } finally {
      await queue.close();
      await handle.close();
      await tmp.remove();
    }
  });
});
