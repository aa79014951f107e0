import { join } from 'node:path';
import { createDatabase } from '../../../src/db/create-db.js';
import { createEmbeddedQueue } from '../../../src/queue/embedded/embedded-queue.js';
import { queueContract } from '../../contract/queue-contract.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

queueContract('embedded (SQLite)', async () => {
  const tmp = await makeTempDir();
  const handle = await createDatabase(`sqlite:${join(tmp.dir, 'queue.db')}`);
  let now = 1_700_000_000_000;
  const queue = createEmbeddedQueue(handle.db, { backoffBaseMs: 1000, backoffMaxMs: 8000 }, () => now);
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
