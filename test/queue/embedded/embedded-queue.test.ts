import { createQueueEntriesRepo } from '../../../src/db/repos/queue-entries-repo.js';
import { join } from 'node:path';
import { afterAll } from 'vitest';
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
