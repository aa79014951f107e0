import { createBullmqQueue } from '../../../src/queue/bullmq/bullmq-queue.js';
import type { RetryPolicy } from '../../../src/queue/queue.js';
import { queueContract } from '../../contract/queue-contract.js';
import { deleteRedisPrefix, REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.js';

// Real Redis time: backoff scaled down so the suite runs in seconds, and BullMQ's stalled
// checker every 100 ms so an expired lease is reported within a few intervals.
const POLICY: RetryPolicy = { backoffBaseMs: 200, backoffMaxMs: 1600 };

queueContract('BullMQ (Redis)', async () => {
  const prefix = uniqueRedisPrefix();
  const queue = createBullmqQueue({ redisUrl: REDIS_URL, prefix, policy: POLICY, stalledIntervalMs: 100 });
  return {
    queue,
    policy: POLICY,
    elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: Date.now,
    recoveryGraceMs: 1500,
    cleanup: async () => {
      await queue.close();
      await deleteRedisPrefix(prefix);
    },
  };
});
