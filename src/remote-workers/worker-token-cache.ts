import { hashToken } from '../db/repos/users-repo.js';
import { rememberBounded } from '../lib/remember-bounded.js';
import type { WorkerTokenRow, WorkerTokensRepo } from '../db/repos/worker-tokens-repo.js';

export interface WorkerTokenCacheOptions {
  /** How long a looked-up token is trusted without asking the database again. */
  readonly ttlMs: number;
  /** Most tokens remembered; the oldest go first. */
  readonly maxEntries: number;
  readonly clock: () => number;
}

/**
 * Worker tokens looked up in the last `ttlMs`, keyed by the token's hash (the token itself is
 * never kept), so the claim, heartbeats and completion of a job do not each query the
 * database (issue #13). The price: a token revoked on another node — or with `atelier workers
 * remove` — keeps working here for up to `ttlMs`; `forget` revokes on this node at once.
 * Unknown tokens are not remembered, so a new token works at once.
 *
 * @example
 * const cache = createWorkerTokenCache(tokens, { ttlMs: 5000, maxEntries: 1000, clock: Date.now });
 * const worker = await cache.find(bearer); // one query per token per 5 s at most
 */
export function createWorkerTokenCache(repo: Pick<WorkerTokensRepo, 'findByToken'>, options: WorkerTokenCacheOptions) {
  const entries = new Map<string, { row: WorkerTokenRow; until: number }>();
  /** Bumped by every revocation, so a lookup that raced one is not remembered. */
  let revocations = 0;

  return {
    async find(token: string): Promise<WorkerTokenRow | undefined> {
      const key = hashToken(token);
      const now = options.clock();
      const hit = entries.get(key);
      if (hit && hit.until > now) return hit.row;
      entries.delete(key);
      const seen = revocations;
      const row = await repo.findByToken(token);
      if (!row || seen !== revocations) return row;
      rememberBounded(entries, key, { row, until: now + options.ttlMs }, options.maxEntries);
      return row;
    },

    /** Drops the worker (by id or name) this node remembers, as its token was just revoked. */
    forget(idOrName: string): void {
      revocations++;
      for (const [key, { row }] of entries) if (row.id === idOrName || row.name === idOrName) entries.delete(key);
    },
  };
}
