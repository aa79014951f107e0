/**
 * A small pool for decoding untrusted images (uploads, URL sources), so they can never take
 * the whole process with them (issue #14 §7).
 *
 * Every sharp operation holds one thread of libuv's pool (`UV_THREADPOOL_SIZE`, default 4)
 * from start to end, and the same pool serves the file system, DNS lookups, crypto and zlib —
 * and the sharp work of generation itself. Four uploads that are slow to decode filled it, and
 * another user's 64 px upload and a 512 px job waited ~30 s behind them. Decodes of untrusted
 * bytes therefore go through this pool: at most `concurrency` at once (half of libuv's pool by
 * default, so the other half stays free for everything else) and at most `perOwner` per user,
 * handed out round-robin between users, so one user's queue never holds up another's upload.
 * (`sharp.concurrency` is a different knob: the libvips threads working on one image.)
 */
export interface DecodePool {
  /** Runs `task` when a slot is free for `owner` (a user id); resolves or rejects with it. */
  run<T>(owner: string, task: () => Promise<T>): Promise<T>;
  /** Decodes running now, and waiting (for tests and metrics). */
  readonly counts: { readonly running: number; readonly waiting: number };
}

export interface DecodePoolOptions {
  /** Decodes at once across all owners. */
  readonly concurrency: number;
  /** Decodes at once for one owner. */
  readonly perOwner: number;
}

/** libuv's pool size: the environment variable Node read at start-up, else its default of 4. */
export function libuvPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
}

export const DEFAULT_DECODE_POOL_OPTIONS: DecodePoolOptions = Object.freeze({ concurrency: Math.max(1, Math.floor(libuvPoolSize() / 2)), perOwner: 1 });

/**
 * @example
 * const pool = createDecodePool({ concurrency: 2, perOwner: 1 });
 * await pool.run(user.id, () => sharp(bytes).timeout({ seconds: 5 }).raw().toBuffer());
 */
export function createDecodePool(options: DecodePoolOptions = DEFAULT_DECODE_POOL_OPTIONS): DecodePool {
  if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1) || !(Number.isInteger(options.perOwner) && options.perOwner >= 1)) {
    throw new RangeError(`Expected positive integers for concurrency and perOwner but received ${options.concurrency} and ${options.perOwner}`);
  }
  // Owners with waiting tasks, in the order they get their next turn.
  const queues = new Map<string, Array<() => void>>();
  const runningByOwner = new Map<string, number>();
  let running = 0;
  let waiting = 0;

  function next(): void {
    while (running < options.concurrency) {
      const owner = [...queues.keys()].find((key) => (runningByOwner.get(key) ?? 0) < options.perOwner);
      if (owner === undefined) return;
      const queue = queues.get(owner)!;
      const start = queue.shift()!;
      // Re-inserted at the end: the next free slot goes to another owner first.
      queues.delete(owner);
      if (queue.length > 0) queues.set(owner, queue);
      waiting--;
      start();
    }
  }

  return {
    run(owner, task) {
      return new Promise((resolve, reject) => {
        const start = () => {
          running++;
          runningByOwner.set(owner, (runningByOwner.get(owner) ?? 0) + 1);
          const done = () => {
            running--;
            const left = runningByOwner.get(owner)! - 1;
            if (left === 0) runningByOwner.delete(owner);
            else runningByOwner.set(owner, left);
            next();
          };
          let result: Promise<unknown>;
          try {
            result = task();
          } catch (error) {
            result = Promise.reject(error);
          }
          result.then(
            (value) => {
              done();
              resolve(value as never);
            },
            (error: unknown) => {
              done();
              reject(error);
            },
          );
        };
        const queue = queues.get(owner);
        if (queue) queue.push(start);
        else queues.set(owner, [start]);
        waiting++;
        next();
      });
    },
    get counts() {
      return { running, waiting };
    },
  };
}

/** The pool every untrusted decode of this process shares (libuv's pool is per process too). */
export const untrustedDecodes: DecodePool = createDecodePool();
