import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bullmqPriority, queueNameOf } from '../../../src/queue/bullmq/bullmq-names.js';
import { createBullmqQueue, type BullmqQueue } from '../../../src/queue/bullmq/bullmq-queue.js';
import type { Lease } from '../../../src/queue/queue.js';
import { deleteRedisPrefix, REDIS_URL, redisKeys, uniqueRedisPrefix } from '../../helpers/redis.js';

const POLICY = { backoffBaseMs: 200, backoffMaxMs: 1600 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Two adapter instances on one prefix: two nodes sharing one queue. */
describe('BullMQ queue across nodes', () => {
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
    await Promise.all([nodeA.close(), nodeB.close()]);
    await deleteRedisPrefix(prefix);
  });

  it('hands each of 200 jobs to exactly one claim when two nodes claim concurrently', async () => {
    for (let i = 0; i < 200; i++) await nodeA.enqueue(`job-${i}`, { priority: i % 3, maxAttempts: 3 });
    const claimed: { node: string; lease: Lease }[] = [];
    const drain = async (node: string, queue: BullmqQueue) => {
      for (;;) {
        const lease = await queue.claim(`${node}-worker`, 10_000);
        if (!lease) return;
        claimed.push({ node, lease });
        expect(await queue.complete(lease)).toBe(true);
      }
    };
    // Four claim loops per node, all at once.
    await Promise.all([...[1, 2, 3, 4].map(() => drain('a', nodeA)), ...[1, 2, 3, 4].map(() => drain('b', nodeB))]);
    const ids = claimed.map((c) => c.lease.jobId);
    expect(ids).toHaveLength(200);
    expect(new Set(ids).size).toBe(200);
    expect(claimed.every((c) => c.lease.attempt === 1)).toBe(true);
    expect(claimed.some((c) => c.node === 'a')).toBe(true);
    expect(claimed.some((c) => c.node === 'b')).toBe(true);
    expect(await nodeB.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
  });

  it('recovers, on the surviving node, the lease of a node that died', async () => {
    await nodeA.enqueue('job', { priority: 0, maxAttempts: 3 });
    const stale = (await nodeA.claim('a', 500))!;
    expect(stale).toMatchObject({ jobId: 'job', attempt: 1 });
    await nodeA.close(); // node A dies holding the lease: no more heartbeats
    const recovered = [];
    const deadline = Date.now() + 3000;
    while (recovered.length === 0 && Date.now() < deadline) {
      recovered.push(...(await nodeB.recoverExpired()));
      await sleep(20);
    }
    expect(recovered).toMatchObject([{ jobId: 'job', outcome: { kind: 'retry', attempt: 1 }, error: { code: 'lease_expired' } }]);
    expect(await nodeB.heartbeat(stale, 1000)).toBe(false);
    expect(await nodeB.complete(stale)).toBe(false);
    const retryAt = (recovered[0]!.outcome as { retryAt: number }).retryAt;
    await sleep(Math.max(0, retryAt - Date.now()) + 10);
    const again = await nodeB.claim('b', 1000);
    expect(again).toMatchObject({ jobId: 'job', attempt: 2 });
    expect(again!.token).not.toBe(stale.token);
    expect(await nodeB.complete(again!)).toBe(true);
    nodeA = make(); // for afterEach
  });

  it('reports an expired lease once across the cluster, however many nodes sweep', async () => {
    for (const id of ['x', 'y', 'z']) await nodeA.enqueue(id, { priority: 0, maxAttempts: 3 });
    for (let i = 0; i < 3; i++) await nodeA.claim('a', 300); // never heartbeated
    const reports: string[] = [];
    const sweep = async () => {
      const [a, b] = await Promise.all([nodeA.recoverExpired(), nodeB.recoverExpired()]);
      reports.push(...[...a, ...b].map((r) => r.jobId));
    };
    const deadline = Date.now() + 2500;
    while (reports.length < 3 && Date.now() < deadline) {
      await sweep();
      await sleep(20);
    }
    // A few more stalled-check intervals: any duplicate would show up now.
    await sleep(400);
    await sweep();
    expect(reports.sort()).toEqual(['x', 'y', 'z']);
  });

  it('keeps, completes and fails a lease from any node (a remote worker may call any server)', async () => {
    await nodeA.enqueue('remote-job', { priority: 0, maxAttempts: 2, lane: 'remote:gpu' });
    const lease = (await nodeA.claim('a', 1000, 'remote:gpu'))!;
    expect(await nodeB.heartbeat(lease, 1000)).toBe(true);
    expect(await nodeB.fail(lease, { code: 'backend_failed', message: 'x' }, true)).toMatchObject({ kind: 'retry', attempt: 1 });
    await sleep(POLICY.backoffBaseMs + 20);
    const second = (await nodeB.claim('b', 1000, 'remote:gpu'))!;
    expect(second.attempt).toBe(2);
    expect(await nodeA.complete(second)).toBe(true);
    expect(await nodeA.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
  });

  it('cancels from one node a job running on the other', async () => {
    await nodeA.enqueue('job', { priority: 0, maxAttempts: 3 });
    const lease = (await nodeA.claim('a', 5000))!;
    expect(await nodeB.cancel('job')).toBe(true);
    expect(await nodeA.heartbeat(lease, 5000)).toBe(false);
    expect(await nodeA.complete(lease)).toBe(false);
    expect(await nodeA.fail(lease, { code: 'backend_failed', message: 'x' }, true)).toBeUndefined();
    expect(await nodeB.claim('b', 1000)).toBeUndefined();
    expect(await nodeB.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
    expect(await nodeB.cancel('job')).toBe(false);
  });

  it('wakes a runner on one node when another node enqueues, without polling', async () => {
    await nodeB.waitForWork(200); // subscribes node B to the lane's events
    const started = Date.now();
    const waiting = nodeB.waitForWork(5000);
    await sleep(50);
    await nodeA.enqueue('job', { priority: 0, maxAttempts: 1 });
    await waiting;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await nodeB.claim('b', 1000)).toMatchObject({ jobId: 'job' });
  });

  it('wakes a runner when a delayed job of another node becomes due', async () => {
    await nodeB.waitForWork(200);
    const started = Date.now();
    const waiting = nodeB.waitForWork(5000);
    await nodeA.enqueue('later', { priority: 0, maxAttempts: 1, delayMs: 400 });
    // BullMQ announces the delayed job with its due time; B sleeps until then.
    await waiting;
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await nodeB.claim('b', 1000)).toMatchObject({ jobId: 'later' });
  });

  it('keeps every key under its prefix, one BullMQ queue per lane', async () => {
    await nodeA.enqueue('l', { priority: 0, maxAttempts: 1 });
    await nodeA.enqueue('r', { priority: 0, maxAttempts: 1, lane: 'remote:gpu' });
    const keys = await redisKeys(prefix);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((k) => k.startsWith(`${prefix}:${queueNameOf('local')}:`))).toBe(true);
    expect(keys.some((k) => k.startsWith(`${prefix}:${queueNameOf('remote:gpu')}:`))).toBe(true);
    expect(await redisKeys(`${prefix}-other`)).toEqual([]);
  });
});

describe('BullMQ priorities', () => {
  it('turns ours (higher first) into BullMQ’s (1 first), always ≥ 1', () => {
    expect(bullmqPriority(5)).toBeLessThan(bullmqPriority(0));
    expect(bullmqPriority(0)).toBeLessThan(bullmqPriority(-100));
    expect(bullmqPriority(10 ** 9)).toBe(1);
    expect(bullmqPriority(-(10 ** 9))).toBe(2 ** 21);
  });
});
