import { join } from 'node:path';
import { createDatabase, type DatabaseHandle } from '../../../src/db/create-db.js';
import { testSchema } from '../../helpers/postgres.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

/** A fresh, migrated database of each dialect, for repository tests that loop over both. */
export const DIALECTS: readonly { readonly name: string; open(): Promise<{ handle: DatabaseHandle; cleanup(): Promise<void> }> }[] = [
  {
    name: 'SQLite',
    async open() {
      const tmp = await makeTempDir('atelier-repo-');
      const handle = await createDatabase(`sqlite:${join(tmp.dir, 'atelier.db')}`);
      return {
        handle,
        async cleanup() {
          await handle.close();
          await tmp.remove();
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const schema = testSchema();
      const handle = await createDatabase(schema.url);
      return {
        handle,
        async cleanup() {
          await handle.close();
          await schema.drop();
        },
      };
    },
  },
];
