import { join } from 'node:path';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { databaseContract } from '../contract/database-contract.js';
import { makeTempDir } from '../helpers/temp-dir.js';

databaseContract('SQLite', async () => {
  const tmp = await makeTempDir('atelier-db-');
  const url = `sqlite:${join(tmp.dir, 'atelier.db')}`;
  const handle = await createDatabase(url);
  const extra: DatabaseHandle[] = [];
  return {
    dialect: 'sqlite',
    handle,
    peer: async () => handle,
    reopen: async () => {
      const again = await createDatabase(url);
      extra.push(again);
      return again;
    },
    cleanup: async () => {
      for (const h of extra) await h.close();
      await handle.close();
      await tmp.remove();
    },
  };
});
