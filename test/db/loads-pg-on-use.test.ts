import { describe, expect, it } from 'vitest';
import { builtModule, packagesLoadedBy } from '../helpers/packages-loaded.js';

/** The built module, as `atelier serve` runs it. */
const CREATE_DB = builtModule('src/db/create-db.js');

describe('createDatabase loads pg only for a postgres:// URL', () => {
  it('opens, pings and closes SQLite without loading pg', () => {
    const loaded = packagesLoadedBy(`
      const { createDatabase } = await import(${JSON.stringify(CREATE_DB)});
      const handle = await createDatabase(':memory:');
      await handle.ping();
      await handle.close();`);
    // The hook works: the SQLite adapter's packages are seen.
    expect(loaded).toEqual(expect.arrayContaining(['kysely', 'better-sqlite3']));
    expect(loaded).not.toContain('pg');
  });

  it('loads pg when a postgres:// URL is opened (the control: the hook would see a static import)', () => {
    // Port 1 refuses the connection, so no server is needed: opening fails after pg is loaded.
    const loaded = packagesLoadedBy(`
      const { createDatabase } = await import(${JSON.stringify(CREATE_DB)});
      await createDatabase('postgres://atelier@127.0.0.1:1/none').then((handle) => handle.close(), () => undefined);`);
    expect(loaded).toContain('pg');
    expect(loaded).not.toContain('better-sqlite3');
  });
});
