import { Queue, QueueEvents, Worker, type BackoffStrategy } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNameOf } from './bullmq-names.js';

export interface LaneQueuesOptions {
  /** Commands that should fail rather than wait forever while Redis is away (producers, reads). */
  readonly commands: Redis;
  /** For Workers (BullMQ duplicates it for their blocking connections) and QueueEvents. */
  readonly consumers: Redis;
  readonly prefix: string;
  /** The lock a claim takes before the adapter sets the lease's own length. */
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly backoffStrategy: BackoffStrategy;
  /** A stalled job BullMQ's checker just moved back to wait (see bullmq-queue.ts). */
  readonly onStalled: (lane: string, jobId: string) => void;
  readonly onError: (error: unknown, where: string) => void;
}

/**
 * The BullMQ objects of every lane, made on first use: a `Queue` (adds, counts, removals), a
 * `Worker` in manual mode (claims, lock extension, the stalled checker) and, only for lanes
 * somebody waits on, a `QueueEvents` (wake-ups). The lanes ever used under the prefix are
 * kept in one Redis set, so any node can count and sweep lanes it never enqueued to.
 */
export function createLaneQueues(options: LaneQueuesOptions) {
  const { commands, consumers, prefix } = options;
  const registryKey = `${prefix}:lanes`;
  const queues = new Map<string, Queue>();
  const workers = new Map<string, Worker>();
  const events = new Map<string, QueueEvents>();
  const registered = new Map<string, Promise<unknown>>();
  let closed = false;

  function queue(lane: string): Queue {
    let found = queues.get(lane);
    if (!found) {
      found = new Queue(queueNameOf(lane), { connection: commands, prefix });
      found.on('error', (error) => options.onError(error, `queue ${lane}`));
      queues.set(lane, found);
    }
    return found;
  }

  function worker(lane: string): Worker {
    let found = workers.get(lane);
    if (!found) {
      found = new Worker(queueNameOf(lane), null, {
        connection: consumers,
        prefix,
        autorun: false,
        lockDuration: options.lockDurationMs,
        stalledInterval: options.stalledIntervalMs,
        // Every expired lease counts as an attempt in the adapter, which applies maxAttempts
        // itself; BullMQ's own limit would fail jobs behind its back (a deferred failure).
        maxStalledCount: Number.MAX_SAFE_INTEGER,
        settings: { backoffStrategy: options.backoffStrategy },
      });
      const created = found;
      created.on('error', (error) => options.onError(error, `worker ${lane}`));
      created.on('stalled', (jobId) => options.onStalled(lane, jobId));
      // Manual processing: BullMQ's stalled checker only runs once started (docs: "manually
      // fetching jobs").
      created.startStalledCheckTimer().catch((error: unknown) => options.onError(error, `stalled checker ${lane}`));
      workers.set(lane, created);
    }
    return found;
  }

  function queueEvents(lane: string, listen: (events: QueueEvents) => void): QueueEvents {
    let found = events.get(lane);
    if (!found) {
      found = new QueueEvents(queueNameOf(lane), { connection: consumers, prefix });
      found.on('error', (error) => options.onError(error, `queue events ${lane}`));
      listen(found);
      events.set(lane, found);
    }
    return found;
  }

  /** Records the lane in the prefix's lane set, once per process. */
  function register(lane: string): Promise<unknown> {
    let done = registered.get(lane);
    if (!done) {
      done = commands.sadd(registryKey, lane);
      done.catch(() => registered.delete(lane));
      registered.set(lane, done);
    }
    return done;
  }

  /** Every lane ever used under this prefix, by any node. */
  async function allLanes(): Promise<string[]> {
    const stored = await commands.smembers(registryKey);
    return [...new Set([...stored, ...queues.keys()])];
  }

  return {
    queue,
    worker,
    queueEvents,
    register,
    allLanes,
    get closed(): boolean {
      return closed;
    },
    async close(): Promise<void> {
      closed = true;
      const all = [...events.values(), ...workers.values(), ...queues.values()];
      await Promise.allSettled(all.map((item) => item.close()));
      events.clear();
      workers.clear();
      queues.clear();
    },
  };
}

export type LaneQueues = ReturnType<typeof createLaneQueues>;
