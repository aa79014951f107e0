import { describe, expect, it } from 'vitest';
import { createDecodePool, DEFAULT_DECODE_POOL_OPTIONS, libuvPoolSize } from '../../../src/media/image/decode-pool.js';

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    task: async () => {
      log.push(name);
      await opened;
      return name;
    },
    open: () => open(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('createDecodePool', () => {
  it('runs at most `concurrency` tasks at once and starts the next as one ends', async () => {
    const pool = createDecodePool({ concurrency: 2, perOwner: 2 });
    const log: string[] = [];
    const gates = ['a', 'b', 'c'].map((name) => gate(log, name));
    const results = gates.map((g) => pool.run('alice', g.task));
    await settle();
    expect(log).toEqual(['a', 'b']);
    expect(pool.counts).toEqual({ running: 2, waiting: 1 });
    gates[0]!.open();
    await expect(results[0]).resolves.toBe('a');
    await settle();
    expect(log).toEqual(['a', 'b', 'c']);
    gates[1]!.open();
    gates[2]!.open();
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c']);
    expect(pool.counts).toEqual({ running: 0, waiting: 0 });
  });

  it("never lets one owner's queue hold up another owner", async () => {
    const pool = createDecodePool({ concurrency: 2, perOwner: 1 });
    const log: string[] = [];
    const attacker = ['m1', 'm2', 'm3', 'm4'].map((name) => gate(log, name));
    const attacks = attacker.map((g) => pool.run('mallory', g.task));
    await settle();
    // One slot for mallory however many she queues; the other stays free.
    expect(log).toEqual(['m1']);
    const victim = gate(log, 'v1');
    const victimRun = pool.run('victor', victim.task);
    await settle();
    expect(log).toEqual(['m1', 'v1']);
    victim.open();
    await expect(victimRun).resolves.toBe('v1');
    for (const g of attacker) g.open();
    await expect(Promise.all(attacks)).resolves.toEqual(['m1', 'm2', 'm3', 'm4']);
  });

  it('takes turns between waiting owners (round-robin), not first come first served', async () => {
    const pool = createDecodePool({ concurrency: 1, perOwner: 1 });
    const log: string[] = [];
    const first = gate(log, 'first');
    const running = pool.run('x', first.task);
    const queued = [
      ['a', 'a1'],
      ['a', 'a2'],
      ['a', 'a3'],
      ['b', 'b1'],
      ['c', 'c1'],
    ].map(([owner, name]) => pool.run(owner!, async () => void log.push(name!)));
    await settle();
    first.open();
    await Promise.all([running, ...queued]);
    expect(log).toEqual(['first', 'a1', 'b1', 'c1', 'a2', 'a3']);
  });

  it('frees the slot of a task that fails, and passes its error on', async () => {
    const pool = createDecodePool({ concurrency: 1, perOwner: 1 });
    await expect(pool.run('a', async () => Promise.reject(new Error('corrupt')))).rejects.toThrow('corrupt');
    await expect(pool.run('a', () => { throw new Error('sync'); })).rejects.toThrow('sync');
    await expect(pool.run('a', async () => 'next')).resolves.toBe('next');
    expect(pool.counts).toEqual({ running: 0, waiting: 0 });
  });

  it('defaults to half of libuv’s pool, one decode per owner', () => {
    expect(libuvPoolSize({})).toBe(4);
    expect(libuvPoolSize({ UV_THREADPOOL_SIZE: '16' })).toBe(16);
    expect(libuvPoolSize({ UV_THREADPOOL_SIZE: 'lots' })).toBe(4);
    expect(DEFAULT_DECODE_POOL_OPTIONS).toEqual({ concurrency: Math.max(1, Math.floor(libuvPoolSize() / 2)), perOwner: 1 });
    expect(() => createDecodePool({ concurrency: 0, perOwner: 1 })).toThrow(RangeError);
  });
});
