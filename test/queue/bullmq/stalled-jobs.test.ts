import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { attemptOf, entryOptions } from '../../../src/queue/bullmq/bullmq-entries.js';
import { bullmqPriority, JOB_NAME } from '../../../src/queue/bullmq/bullmq-names.js';
import { createLaneQueues, type LaneQueues } from '../../../src/queue/bullmq/lane-queues.js';
import { createStalledJobs, type StalledJobs } from '../../../src/queue/bullmq/stalled-jobs.js';
import { createWakeUps } from '../../../src/queue/bullmq/wake-ups.js';
import { deleteRedisPrefix, REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.js';

const LANE = 'remote:gpu';

/**
 * BullMQ's stalled checker moves an expired job back to wait and reports it; in the moment
 * before the finding node removes it, a claim on another node (a long-polling remote worker
 * is woken by that very move) may take it as the next attempt.
 */
describe('BullMQ stalled jobs: a job claimed again before the finding node settles it', () => {
  let prefix: string;
  let commands: Redis;
  let consumers: Redis;
  let lanes: LaneQueues;
  let stalled: StalledJobs;

  beforeEach(() => {
    prefix = uniqueRedisPrefix();
    commands = new Redis(REDIS_URL);
    consumers = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const onError = (error: unknown) => {
      throw error;
    };
    // BullMQ's own checker stays out of the way: the test reports the stalled job itself.
    lanes = createLaneQueues({ commands, consumers, prefix, lockDurationMs: 30_000, stalledIntervalMs: 600_000, backoffStrategy: () => 0, onStalled: () => {}, onError });
    stalled = createStalledJobs({ lanes, commands, policy: { backoffBaseMs: 200, backoffMaxMs: 1600 }, wakeUps: createWakeUps(), forget: () => {}, onError });
  });
  afterEach(async () => {
    await lanes.close();
    commands.disconnect();
    consumers.disconnect();
    await deleteRedisPrefix(prefix);
  });

  /**
   * The job after `attemptsBefore` attempts, back in wait as the checker left it, claimed again
   * as the next attempt either before the finding node reads it or between its read and its
   * removal. `drop`: the claim has no attempt left and fails the job for good, as claimFrom does.
   */
  async function raceClaim(attemptsBefore: number, when: 'before-read' | 'before-remove', drop = false) {
    const maxAttempts = 3;
    const queue = lanes.queue(LANE);
    await queue.add(JOB_NAME, { attemptsBefore, maxAttempts, lane: LANE }, entryOptions('job-1', bullmqPriority(0), maxAttempts, attemptsBefore, 0));
    const claim = async () => {
      const job = (await lanes.worker(LANE).getNextJob('next-claim', { block: false }))!;
      expect(attemptOf(job)).toBe(attemptsBefore + 1);
      if (drop) {
        job.discard();
        await job.moveToFailed(new Error('No attempt left after an expired lease'), 'next-claim', false);
      }
    };
    if (when === 'before-read') await claim();
    else {
      const remove = queue.remove.bind(queue);
      queue.remove = async (jobId, options) => {
        await claim();
        return remove(jobId, options);
      };
    }
    stalled.found(LANE, 'job-1');
    return stalled.drain();
  }

  const held = async () => (await commands.get(`${lanes.queue(LANE).toKey('job-1')}:lock`)) === 'next-claim';

  for (const when of ['before-read', 'before-remove'] as const) {
    it(`reports nothing for the record when claimed ${when}: the claim is the next attempt and records itself`, async () => {
      expect(await raceClaim(1, when)).toEqual([]);
      expect(await held()).toBe(true);
    });

    it(`does not fail a job claimed ${when} for its last attempt`, async () => {
      expect(await raceClaim(2, when)).toEqual([]);
      expect(await held()).toBe(true);
    });
  }

  it('fails the job when the claim had no attempt left and dropped it', async () => {
    expect(await raceClaim(3, 'before-remove', true)).toMatchObject([{ jobId: 'job-1', outcome: { kind: 'failed' }, error: { code: 'lease_expired' } }]);
  });
});
