import { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBullmqQueue, type BullmqQueue } from '../../../src/queue/bullmq/bullmq-queue.js';
import { deleteRedisPrefix, REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.js';

const POLICY = { backoffBaseMs: 200, backoffMaxMs: 1600 };

/** Completing a lease on the node that claimed it uses the job the claim returned (claimed-jobs.ts). */
describe('BullMQ: completing a lease claimed on this node', () => {
  let prefix: string;
  let nodeA: BullmqQueue;
  let nodeB: BullmqQueue;
  const make = () => createBullmqQueue({ redisUrl: REDIS_URL, prefix, policy: POLICY, stalledIntervalMs: 100 });

  beforeEach(() => {
    prefix = uniqueRedisPrefix();
    nodeA = make();
    nodeB = make();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all([nodeA.close(), nodeB.close()]);
    await deleteRedisPrefix(prefix);
  });

  it('does not fetch the job back from Redis', async () => {
    await nodeA.enqueue('job', { priority: 0, maxAttempts: 3, lane: 'remote:gpu' });
    const lease = (await nodeA.claim('a', 5000, 'remote:gpu'))!;
    const fetches = vi.spyOn(Job, 'fromId');
    expect(await nodeA.complete(lease)).toBe(true);
    expect(fetches).not.toHaveBeenCalled();
    expect(await nodeA.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
  });

  it('still fetches on another node, and refuses a lease that is gone either way', async () => {
    await nodeA.enqueue('elsewhere', { priority: 0, maxAttempts: 3 });
    const lease = (await nodeA.claim('a', 5000))!;
    const fetches = vi.spyOn(Job, 'fromId');
    expect(await nodeB.complete(lease)).toBe(true);
    expect(fetches).toHaveBeenCalledTimes(1);
    // Completed on B: A still remembers the claim, but BullMQ refuses the spent token.
    expect(await nodeA.complete(lease)).toBe(false);

    await nodeA.enqueue('stale', { priority: 0, maxAttempts: 3 });
    const stale = (await nodeA.claim('a', 5000))!;
    expect(await nodeB.cancel('stale')).toBe(true);
    expect(await nodeA.complete(stale)).toBe(false);
    expect(await nodeA.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
  });
});
