import { Redis } from 'ioredis';

/**
 * Commands the Redis server processed, from `INFO stats` total_commands_processed. Server-wide:
 * any other client of the same Redis during a run (a test suite, another bench) counts too, and
 * each reading adds its own INFO. Good enough to compare runs on a quiet Redis.
 */
export interface RedisCommandCounter {
  read(): Promise<number>;
  close(): void;
}

export function redisCommandCounter(url: string): RedisCommandCounter {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  return {
    async read() {
      if (redis.status === 'wait') await redis.connect();
      const info = await redis.info('stats');
      const m = /^total_commands_processed:(\d+)/m.exec(info);
      if (!m) throw new Error('INFO stats has no total_commands_processed');
      return Number(m[1]);
    },
    close: () => redis.disconnect(),
  };
}
