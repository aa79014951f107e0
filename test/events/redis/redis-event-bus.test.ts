import { createServer, Socket, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventBus, JobEvent } from '../../../src/events/event-bus.js';
import { createRedisEventBus } from '../../../src/events/redis/redis-event-bus.js';
import { eventBusContract } from '../../contract/event-bus-contract.js';
import { REDIS_URL, uniqueRedisPrefix } from '../../helpers/redis.js';

// Two buses on one prefix are two nodes; every case also runs from one to the other.
eventBusContract('Redis pub/sub', async () => {
  const prefix = uniqueRedisPrefix();
  const bus = await createRedisEventBus({ redisUrl: REDIS_URL, prefix });
  const peer = await createRedisEventBus({ redisUrl: REDIS_URL, prefix });
  return {
    bus,
    peer,
    cleanup: async () => {
      await Promise.all([bus.close(), peer.close()]);
    },
  };
});

const progress = (jobId: string, seq: number): JobEvent => ({ jobId, userId: 'u', seq, type: 'progress', data: { step: seq }, at: Date.now() });

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A TCP relay to Redis that the test can cut and restore: Redis "goes down" for one bus only. */
async function startRelay(): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  let up = true;
  const server: Server = createServer((client) => {
    if (!up) return client.destroy();
    const upstream = new Socket();
    upstream.connect(Number(target.port || 6379), target.hostname);
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
      setTimeout(() => (up = true), 300);
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

describe('Redis event bus', () => {
  const open: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((bus) => bus.close()));
  });

  it('keeps the prefixes apart: another deployment on the same Redis hears nothing', async () => {
    const mine = await createRedisEventBus({ redisUrl: REDIS_URL, prefix: uniqueRedisPrefix() });
    const theirs = await createRedisEventBus({ redisUrl: REDIS_URL, prefix: uniqueRedisPrefix() });
    open.push(mine, theirs);
    const heard: JobEvent[] = [];
    theirs.subscribe('*', (e) => heard.push(e));
    const sameNode: JobEvent[] = [];
    mine.subscribe('*', (e) => sameNode.push(e));
    await mine.publish(progress('job', 1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sameNode).toHaveLength(1);
    expect(heard).toEqual([]);
  });

  it('survives Redis going away: publishing neither throws nor stops local delivery, and cross-node delivery resumes', async () => {
    const relay = await startRelay();
    const prefix = uniqueRedisPrefix();
    const flaky = await createRedisEventBus({ redisUrl: relay.url, prefix });
    const other = await createRedisEventBus({ redisUrl: REDIS_URL, prefix });
    open.push(flaky, other);
    const local: number[] = [];
    const remote: number[] = [];
    flaky.subscribe('job', (e) => local.push(e.seq));
    other.subscribe('job', (e) => remote.push(e.seq));

    await flaky.publish(progress('job', 1));
    await until(() => remote.length === 1);
    relay.cut();
    // While the connection is down: no throw, this node's listeners still hear it.
    await expect(flaky.publish(progress('job', 2))).resolves.toBeUndefined();
    expect(local).toEqual([1, 2]);
    // Back up (ioredis reconnects): other nodes hear new events again.
    await until(() => {
      void flaky.publish(progress('job', 100 + local.length));
      return remote.some((seq) => seq > 100);
    }, 10_000);
    await relay.close();
  });
});
