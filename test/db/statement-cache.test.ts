import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/db/sqlite/statement-cache.js';

describe('SQLite statement cache', () => {
  const open: SQLite.Database[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
  });

  function database() {
    const sqlite = new SQLite(':memory:');
    open.push(sqlite);
    let prepared = 0;
    const prepare = sqlite.prepare.bind(sqlite);
    sqlite.prepare = ((text: string) => (prepared++, prepare(text))) as typeof sqlite.prepare;
    return { sqlite, cached: withStatementCache(sqlite), prepared: () => prepared };
  }

  it('prepares each SQL text once and reuses it through Kysely', async () => {
    const { cached, prepared } = database();
    const db = new Kysely<{ t: { id: number; v: string } }>({ dialect: new SqliteDialect({ database: cached }) });
    await sql`create table t (id integer primary key, v text)`.execute(db);
    const before = prepared();
    for (let i = 0; i < 50; i++) await db.insertInto('t').values({ id: i, v: `v${i}` }).execute();
    for (let i = 0; i < 50; i++) expect(await db.selectFrom('t').select('v').where('id', '=', i).executeTakeFirst()).toEqual({ v: `v${i}` });
    expect(prepared() - before).toBe(2);
  });

  it('gives a fresh statement while the cached one is still being iterated', () => {
    const { sqlite, cached } = database();
    sqlite.exec('create table t (id integer primary key); insert into t values (1), (2), (3)');
    const first = cached.prepare('select id from t order by id');
    const rows = first.iterate([]);
    expect(rows.next().value).toEqual({ id: 1 });
    const second = cached.prepare('select id from t order by id');
    expect(second).not.toBe(first);
    expect(second.all([])).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect([...rows]).toEqual([{ id: 2 }, { id: 3 }]);
    expect(cached.prepare('select id from t order by id')).toBe(first);
  });

  it('keeps a bounded number of statements, dropping the oldest', () => {
    const { cached, prepared } = database();
    const oldest = cached.prepare('select 0');
    for (let i = 1; i <= 256; i++) cached.prepare(`select ${i}`);
    const count = prepared();
    expect(cached.prepare('select 0')).not.toBe(oldest);
    expect(prepared()).toBe(count + 1);
    expect(cached.prepare('select 256')).toBeDefined();
    expect(prepared()).toBe(count + 1);
  });
});
