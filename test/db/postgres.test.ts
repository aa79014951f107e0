import { describe, expect, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/create-db.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { databaseContract } from '../contract/database-contract.js';
import { POSTGRES_URL, testSchema } from '../helpers/postgres.js';

databaseContract('PostgreSQL', async () => {
  const schema = testSchema();
  const handle = await createDatabase(schema.url);
  const extra: DatabaseHandle[] = [];
  const open = async () => {
    const another = await createDatabase(schema.url);
    extra.push(another);
    return another;
  };
  return {
    dialect: 'postgres',
    handle,
    peer: open,
    reopen: open,
    cleanup: async () => {
      for (const h of extra) await h.close();
      await handle.close();
      await schema.drop();
    },
  };
});

describe('createDatabase on PostgreSQL', () => {
  it('three nodes starting at once on a fresh schema migrate it exactly once', async () => {
    const schema = testSchema();
    const handles = await Promise.all([createDatabase(schema.url), createDatabase(schema.url), createDatabase(schema.url)]);
    try {
      expect(handles.map((h) => h.dialect)).toEqual(['postgres', 'postgres', 'postgres']);
      const applied = await handles[0]!.db.selectFrom('kysely_migration' as never).select('name' as never).execute();
      expect(applied).toHaveLength(11);
      // Each node works on the same tables.
      await handles[1]!.db.insertInto('users').values({ id: 'u1', name: 'n', role: 'user', created_at: 1 }).execute();
      expect(await handles[2]!.db.selectFrom('users').select('id').execute()).toEqual([{ id: 'u1' }]);
    } finally {
      for (const h of handles) await h.close();
      await schema.drop();
    }
  });

  it('keeps the tables and migration records inside the schema named by the URL', async () => {
    const schema = testSchema();
    const handle = await createDatabase(schema.url);
    try {
      const tables = await handle.db.introspection.getTables({ withInternalKyselyTables: true });
      const mine = tables.filter((t) => t.schema === schema.schema).map((t) => t.name);
      expect(mine).toEqual(expect.arrayContaining(['jobs', 'users', 'kysely_migration', 'kysely_migration_lock']));
      expect(tables.filter((t) => t.schema !== schema.schema && t.name === 'kysely_migration' && t.schema === 'public')).toEqual(
        tables.filter((t) => t.schema === 'public' && t.name === 'kysely_migration'),
      );
      const columns = tables.find((t) => t.schema === schema.schema && t.name === 'jobs')!.columns;
      expect(columns.find((c) => c.name === 'cfg_scale')?.dataType).toBe('float8');
      expect(columns.find((c) => c.name === 'seed')?.dataType).toBe('int8');
    } finally {
      await handle.close();
      await schema.drop();
    }
  });

  it('refuses a schema name that is not a plain lower-case identifier, naming DATABASE_URL', async () => {
    for (const bad of ['Atelier', 'a-b', '1abc', 'x;drop', 'a%20b']) {
      const error = await createDatabase(`${POSTGRES_URL}?schema=${bad}`).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, bad).toBeInstanceOf(AtelierError);
      expect(error).toMatchObject({ code: 'config_invalid', field: 'DATABASE_URL' });
    }
  });

  it('accepts postgresql:// URLs', async () => {
    const schema = testSchema();
    const handle = await createDatabase(schema.url.replace(/^postgres:/, 'postgresql:'));
    try {
      expect(handle.dialect).toBe('postgres');
    } finally {
      await handle.close();
      await schema.drop();
    }
  });
});
