import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from '../../observability/logger.js';
import type { EventBus, JobEvent } from '../event-bus.js';

export interface RedisEventBusOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  readonly redisUrl: string;
  /** Channel prefix: events travel on `<prefix>:job-events`; default `atelier`. */
  readonly prefix?: string;
  readonly logger?: Logger;
}

/** One message on the channel: the event and the bus instance that published it. */
interface Envelope {
  readonly origin: string;
  readonly event: JobEvent;
}

/**
 * The event bus across nodes, on Redis pub/sub: an SSE client on one node sees the progress
 * of a job running on any other.
 *
 * One publisher and one subscriber connection per process, one channel for every job (so
 * a subscription is a local listener, in place before anyone subscribes: the SSE route's
 * "subscribe, then replay the log" never races a Redis SUBSCRIBE). Listeners on this node
 * get this node's events synchronously, as with the in-process bus, and other nodes' events
 * from the channel; each publisher's events arrive in the order it published them.
 *
 * Best effort, like the port says: the durable record is the event log in the database.
 * Publishing while Redis is away logs and drops the event for other nodes (this node's
 * listeners still get it); events published elsewhere while this node's subscriber is
 * reconnecting are not seen here (ioredis resubscribes by itself).
 *
 * @example
 * const bus = await createRedisEventBus({ redisUrl: 'redis://127.0.0.1:6379', prefix: 'atelier' });
 * const stop = bus.subscribe(jobId, (event) => console.log(event.type));
 */
export async function createRedisEventBus(options: RedisEventBusOptions): Promise<EventBus> {
  const prefix = options.prefix ?? 'atelier';
  const channel = `${prefix}:job-events`;
  const origin = randomUUID();
  const log = options.logger;
  const local = new EventEmitter();
  local.setMaxListeners(0);
  // No offline queue: while Redis is away a publish fails at once (logged, dropped) instead of
  // piling up in memory or holding the caller.
  const publisher = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectionName: `${prefix}:events-pub`.replace(/\s/g, '_'), lazyConnect: true });
  const subscriber = new Redis(options.redisUrl, { connectionName: `${prefix}:events-sub`.replace(/\s/g, '_'), lazyConnect: true });
  let lastConnectionWarning = 0;
  const onConnectionError = (error: Error) => {
    // ioredis reports every failed reconnect; one line per 10 s is enough.
    if (Date.now() - lastConnectionWarning < 10_000) return;
    lastConnectionWarning = Date.now();
    log?.warn({ err: error }, 'event bus: Redis connection error');
  };
  publisher.on('error', onConnectionError);
  subscriber.on('error', onConnectionError);

  const deliver = (event: JobEvent) => {
    local.emit(event.jobId, event);
    local.emit('*', event);
  };

  subscriber.on('message', (_channel: string, message: string) => {
    try {
      const envelope = JSON.parse(message) as Envelope;
      if (envelope.origin !== origin) deliver(envelope.event);
    } catch (error) {
      log?.warn({ err: error }, 'event bus: a listener failed or a message was malformed');
    }
  });

  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
    await subscriber.subscribe(channel);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw error;
  }

  let closed = false;
  return {
    async publish(event: JobEvent) {
      deliver(event);
      if (closed) return;
      const envelope: Envelope = { origin, event };
      // Not awaited: one connection keeps the order, and a slow Redis never slows the runner.
      publisher.publish(channel, JSON.stringify(envelope)).catch((error: unknown) => {
        log?.warn({ err: error, jobId: event.jobId, type: event.type }, 'event bus: publish failed, event dropped for other nodes');
      });
    },
    subscribe(jobId, listener) {
      local.on(jobId, listener);
      return () => local.off(jobId, listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      local.removeAllListeners();
      // quit() lets the publishes already sent finish; disconnect() if Redis is away.
      await Promise.allSettled([quitOrDisconnect(publisher), quitOrDisconnect(subscriber)]);
    },
  };
}

async function quitOrDisconnect(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit();
  } else {
    redis.disconnect();
  }
}
