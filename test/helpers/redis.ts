import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis every Redis-backed test uses (nothing on disk; tests isolate by key prefix). */
export const REDIS_URL = process.env.ATELIER_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix no other test run uses: `atelier-test-<random>`. */
export function uniqueRedisPrefix(): string {
  return `atelier-test-${randomBytes(6).toString('hex')}`;
}

/** Every key under `prefix:` (BullMQ queues, lane registry), for a test's clean-up. */
export async function redisKeys(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix:`. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const keys = await redisKeys(prefix);
  if (keys.length === 0) return;
  const redis = new Redis(REDIS_URL);
  try {
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  } finally {
    redis.disconnect();
  }
}
