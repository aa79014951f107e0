import { describe, expect, it } from 'vitest';
import type { WorkerTokenRow } from '../../src/db/repos/worker-tokens-repo.js';
import { createWorkerTokenCache } from '../../src/remote-workers/worker-token-cache.js';

/** A token table in memory that counts lookups; `revoke` deletes a row as DELETE /api/admin/workers does. */
function fakeTokens() {
  const rows = new Map<string, WorkerTokenRow>();
  let lookups = 0;
  let gate: Promise<void> | undefined;
  return {
    add(token: string, id: string): void {
      rows.set(token, { id, name: `worker-${id}`, token_hash: `hash-of-${token}`, created_at: 0, last_seen_at: null });
    },
    revoke(token: string): void {
      rows.delete(token);
    },
    /** Holds the next lookups until the returned function is called (a slow database). */
    hold(): () => void {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
    get lookups() {
      return lookups;
    },
    async findByToken(token: string): Promise<WorkerTokenRow | undefined> {
      lookups++;
      const row = rows.get(token);
      await gate;
      return row;
    },
  };
}

describe('worker token cache', () => {
  const setup = (maxEntries = 100) => {
    const tokens = fakeTokens();
    const clock = { now: 1_000_000 };
    const cache = createWorkerTokenCache(tokens, { ttlMs: 5_000, maxEntries, clock: () => clock.now });
    return { tokens, clock, cache };
  };

  it('asks the database once per token within the window, again after it', async () => {
    const { tokens, clock, cache } = setup();
    tokens.add('atw_a', 'a');
    for (let i = 0; i < 5; i++) expect(await cache.find('atw_a')).toMatchObject({ id: 'a' });
    expect(tokens.lookups).toBe(1);
    clock.now += 5_000;
    expect(await cache.find('atw_a')).toMatchObject({ id: 'a' });
    expect(tokens.lookups).toBe(2);
  });

  it('stops accepting a token revoked elsewhere once the window has passed', async () => {
    const { tokens, clock, cache } = setup();
    tokens.add('atw_a', 'a');
    await cache.find('atw_a');
    tokens.revoke('atw_a');
    clock.now += 4_999;
    expect(await cache.find('atw_a')).toMatchObject({ id: 'a' });
    clock.now += 1;
    expect(await cache.find('atw_a')).toBeUndefined();
  });

  it('stops accepting a token revoked on this node at once, by id or by name', async () => {
    const { tokens, cache } = setup();
    tokens.add('atw_a', 'a');
    tokens.add('atw_b', 'b');
    await cache.find('atw_a');
    await cache.find('atw_b');
    tokens.revoke('atw_a');
    cache.forget('a');
    expect(await cache.find('atw_a')).toBeUndefined();
    tokens.revoke('atw_b');
    cache.forget('worker-b');
    expect(await cache.find('atw_b')).toBeUndefined();
  });

  it('does not remember a lookup that raced a revocation', async () => {
    const { tokens, cache } = setup();
    tokens.add('atw_a', 'a');
    const release = tokens.hold();
    const racing = cache.find('atw_a');
    // The row was read before the DELETE committed; the revocation lands meanwhile.
    tokens.revoke('atw_a');
    cache.forget('a');
    release();
    expect(await racing).toMatchObject({ id: 'a' });
    expect(await cache.find('atw_a')).toBeUndefined();
  });

  it('does not remember unknown tokens, so a new one works at once', async () => {
    const { tokens, cache } = setup();
    expect(await cache.find('atw_new')).toBeUndefined();
    tokens.add('atw_new', 'n');
    expect(await cache.find('atw_new')).toMatchObject({ id: 'n' });
  });

  it('keeps at most maxEntries tokens, dropping the oldest', async () => {
    const { tokens, cache } = setup(2);
    for (const id of ['a', 'b', 'c']) tokens.add(`atw_${id}`, id);
    for (const id of ['a', 'b', 'c']) await cache.find(`atw_${id}`);
    expect(tokens.lookups).toBe(3);
    await cache.find('atw_c');
    await cache.find('atw_b');
    expect(tokens.lookups).toBe(3);
    await cache.find('atw_a');
    expect(tokens.lookups).toBe(4);
  });
});
