import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../../src/db/create-db.js';
import { isUniqueViolation } from '../../../src/db/dialect.js';
import { createJobsRepo } from '../../../src/db/repos/jobs-repo.js';
import { createUsersRepo, hashToken, type UsersRepo } from '../../../src/db/repos/users-repo.js';
import { jobRow } from '../rows.js';
import { DIALECTS } from './dialects.js';

const T0 = 1_767_225_600_000;

describe.each(DIALECTS)('UsersRepo on $name', (dialect) => {
  let db: { handle: DatabaseHandle; cleanup(): Promise<void> };
  let users: UsersRepo;
  beforeEach(async () => {
    db = await dialect.open();
    users = createUsersRepo(db.handle.db);
  });
  afterEach(async () => {
    await db.cleanup();
  });

  it('lists live users oldest first with their token counts', async () => {
    const ann = await users.create('ann', 'admin', T0);
    const bo = await users.create('bo', 'user', T0 + 1);
    await users.addToken(ann.id, 'one', T0);
    await users.addToken(ann.id, 'two', T0);
    expect(await users.list()).toEqual([
      { ...ann, tokens: 2 },
      { ...bo, tokens: 0 },
    ]);
    expect(await users.findById(bo.id)).toEqual(bo);
  });

  it('remove: deletes every token, hides the user, keeps its jobs, frees its name', async () => {
    await users.create('root', 'admin', T0);
    const cy = await users.create('cy', 'user', T0);
    const token = await users.addToken(cy.id, 'first', T0);
    await users.addToken(cy.id, 'second', T0);
    const job = jobRow(cy.id);
    await createJobsRepo(db.handle.db).insert(job);

    expect(await users.remove(cy.id, T0 + 5)).toBe('removed');
    expect(await users.findByToken(token)).toBeUndefined();
    expect(await users.findById(cy.id)).toBeUndefined();
    expect(await users.findByName('cy')).toBeUndefined();
    expect((await users.list()).map((u) => u.name)).toEqual(['root']);
    expect(await db.handle.db.selectFrom('api_tokens').select('id').where('user_id', '=', cy.id).execute()).toEqual([]);
    expect((await createJobsRepo(db.handle.db).findById(job.id))?.user_id).toBe(cy.id);
    expect(await db.handle.db.selectFrom('users').select('deleted_at').where('id', '=', cy.id).executeTakeFirst()).toEqual({ deleted_at: T0 + 5 });

    expect(await users.remove(cy.id, T0 + 6)).toBe('not_found');
    const again = await users.create('cy', 'user', T0 + 7);
    expect(again.id).not.toBe(cy.id);
    expect(await users.findByName('cy')).toEqual(again);
    // Two live users may still not share a name.
    expect(isUniqueViolation(await users.create('cy', 'user', T0).catch((e: unknown) => e))).toBe(true);
  });

  it('remove refuses the last live admin and changes nothing', async () => {
    const only = await users.create('only', 'admin', T0);
    const token = await users.addToken(only.id, 'mine', T0);
    expect(await users.remove(only.id, T0)).toBe('last_admin');
    expect(await users.findByToken(token)).toEqual(only);
    expect(await users.countAdmins()).toBe(1);
    const other = await users.create('other', 'admin', T0 + 1);
    expect(await users.remove(only.id, T0)).toBe('removed');
    expect(await users.countAdmins()).toBe(1);
    expect(await users.remove(other.id, T0)).toBe('last_admin');
  });

  it('two admins removed at once: exactly one goes (the last one stays)', async () => {
    const a = await users.create('a', 'admin', T0);
    const b = await users.create('b', 'admin', T0);
    const peer = createUsersRepo(db.handle.db);
    const outcomes = await Promise.all([users.remove(a.id, T0), peer.remove(b.id, T0)]);
    expect([...outcomes].sort()).toEqual(['last_admin', 'removed']);
    expect(await users.countAdmins()).toBe(1);
  });

  it('replaceTokens deletes every earlier token and adds one, atomically', async () => {
    const dee = await users.create('dee', 'user', T0);
    const old = [await users.addToken(dee.id, 'a', T0), await users.addToken(dee.id, 'b', T0)];
    const { token, revoked } = await users.replaceTokens(dee.id, 'rotated', T0 + 1);
    expect(revoked).toBe(2);
    for (const t of old) expect(await users.findByToken(t)).toBeUndefined();
    expect(await users.findByToken(token)).toEqual(dee);
    const rows = await db.handle.db.selectFrom('api_tokens').select(['token_hash', 'label']).where('user_id', '=', dee.id).execute();
    expect(rows).toEqual([{ token_hash: hashToken(token), label: 'rotated' }]);
  });
});
