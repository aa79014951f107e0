import { createQueueEntriesRepo } from '../db/repos/queue-entries-repo.js';
import type { DatabaseHandle } from '../db/create-db.js';
import { AtelierError } from '../errors/atelier-error.js';
import type { Logger } from '../observability/logger.js';
import { createEmbeddedQueue } from '../queue/embedded/embedded-queue.js';
import type { Queue } from '../queue/queue.js';
import type { Config } from './config-schema.js';
import { redactUrlPassword } from '../lib/redact-url.js';

export interface QueueHandle {
  readonly queue: Queue;
  /** Resolves when the queue's own service answers (Redis); undefined for the embedded queue. */
  readonly ping?: () => Promise<void>;
}

/**
 * The embedded queue (rows in the job database) by default; `REDIS_URL` selects BullMQ on
 * Redis, shared by every node, whose client is only loaded then. Start-up fails, naming
 * REDIS_URL, when Redis does not answer within REDIS_CONNECT_TIMEOUT_SECONDS.
 */
export async function createQueue(config: Config, database: Pick<DatabaseHandle, 'db'>, logger?: Logger): Promise<QueueHandle> {
  const policy = { backoffBaseMs: config.runner.backoffBaseMs, backoffMaxMs: config.runner.backoffMaxMs };
  if (!config.redisUrl) return { queue: createEmbeddedQueue(createQueueEntriesRepo(database.db), policy) };
  const { createBullmqQueue } = await import('../queue/bullmq/bullmq-queue.js');
  const queue = createBullmqQueue({
    redisUrl: config.redisUrl,
    prefix: config.redisPrefix,
    policy,
    defaultLeaseMs: config.runner.leaseSeconds * 1000,
    ...(logger ? { logger } : {}),
  });
  try {
    await waitForRedis(() => queue.ping(), config.redisConnectTimeoutSeconds * 1000);
  } catch (error) {
    await queue.close();
    throw new AtelierError('not_ready', `Redis at REDIS_URL (${redactUrlPassword(config.redisUrl)}) does not answer: ${(error as Error).message}`, { field: 'REDIS_URL' });
  }
  return { queue, ping: () => queue.ping() };
}

/** Retries `ping` until it answers or `ms` pass (the client connects in the background). */
async function waitForRedis(ping: () => Promise<void>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await ping();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
