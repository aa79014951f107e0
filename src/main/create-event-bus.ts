import type { EventBus } from '../events/event-bus.js';
import { createInProcessEventBus } from '../events/in-process/in-process-event-bus.js';
import type { Logger } from '../observability/logger.js';
import type { Config } from './config-schema.js';
import { redactUrlPassword } from '../lib/redact-url.js';

/**
 * The in-process bus by default; with `REDIS_URL`, Redis pub/sub, so a stream on one node
 * follows a job running on any other. ioredis is only loaded then.
 */
export async function createEventBus(config: Config, logger?: Logger): Promise<EventBus> {
  if (!config.redisUrl) return createInProcessEventBus();
  const { createRedisEventBus } = await import('../events/redis/redis-event-bus.js');
  try {
    return await createRedisEventBus({ redisUrl: config.redisUrl, prefix: config.redisPrefix, ...(logger ? { logger } : {}) });
  } catch (error) {
    throw new Error(`Redis at REDIS_URL (${redactUrlPassword(config.redisUrl)}) does not answer: ${(error as Error).message}`);
  }
}
