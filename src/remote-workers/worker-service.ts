import { AtelierError } from '../errors/atelier-error.js';
import { createWorkerClaims } from './worker-claims.js';
import { createWorkerCompletion } from './worker-completion.js';
import { createWorkerContext, type WorkerServiceDeps, type WorkerServiceOptions } from './worker-context.js';
import { createWorkerTokenCache } from './worker-token-cache.js';
import { createWorkerUploads } from './worker-uploads.js';
import { WORKER_TOKEN_PREFIX, type WorkerTokenRow } from '../db/repos/worker-tokens-repo.js';

export { formatLeaseToken, parseLeaseToken, type WorkerServiceDeps, type WorkerServiceOptions } from './worker-context.js';
export type { UploadAuth } from './upload-auth.js';
export type { FilePart } from './streamed-outputs.js';

/** How often a worker's last_seen_at is written, at most. */
const SEEN_THROTTLE_MS = 30_000;
/**
 * How long this node trusts a worker token it looked up, by default (`workerTokenCacheSeconds`,
 * WORKER_TOKEN_CACHE_SECONDS): a job's claim, heartbeats and callback then cost one token query
 * at most. A token revoked on another node (or with `atelier workers remove`) keeps working
 * here this long (docs/worker-protocol.md).
 */
export const WORKER_TOKEN_CACHE_MS = 5_000;
const WORKER_TOKEN_CACHE_ENTRIES = 1_000;

/**
 * The server side of the remote-worker protocol (docs/worker-protocol.md); the client is
 * src/reference-worker. Long-poll claims from the remote lanes, heartbeats that keep the
 * lease and relay progress and previews (worker-claims.ts), staged uploads
 * (worker-uploads.ts) and the completion callback — multipart carrying the outputs, or JSON
 * naming staged uploads — committed through the attempt pipeline the in-process runner uses
 * (worker-completion.ts): assets and success in one transaction guarded by the attempt, so a
 * late or repeated callback from a lost lease can never give a job a second set of assets.
 * Worker tokens are looked up through a short in-process cache (worker-token-cache.ts).
 */
export function createWorkerService(deps: WorkerServiceDeps, options: WorkerServiceOptions) {
  const ctx = createWorkerContext(deps, options);
  const { clock, leaseMs, remote, stopping, maxUploadBytes, maxWaitSeconds } = ctx;
  const { claim, heartbeat } = createWorkerClaims(ctx);
  const { receiveUpload } = createWorkerUploads(ctx);
  const completion = createWorkerCompletion(ctx);
  const lastSeen = new Map<string, number>();
  const tokenCache = createWorkerTokenCache(deps.tokens, { ttlMs: options.tokenCacheMs ?? WORKER_TOKEN_CACHE_MS, maxEntries: WORKER_TOKEN_CACHE_ENTRIES, clock });
  let sweeper: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  async function authenticate(token: string | undefined): Promise<WorkerTokenRow> {
    if (!token) throw new AtelierError('unauthorized', 'Missing bearer token: send Authorization: Bearer <worker token> (atw_…, from `atelier workers add`)');
    if (!token.startsWith(WORKER_TOKEN_PREFIX)) {
      throw new AtelierError('forbidden', 'The worker API takes a worker token (atw_…, from `atelier workers add` or POST /api/admin/workers), not an API token');
    }
    const worker = await tokenCache.find(token);
    if (!worker) throw new AtelierError('unauthorized', 'The worker token is not valid (revoked or never issued)');
    const now = clock();
    if (now - (lastSeen.get(worker.id) ?? 0) >= SEEN_THROTTLE_MS) {
      lastSeen.set(worker.id, now);
      await deps.tokens.touch(worker.id, now);
    }
    return worker;
  }

  return {
    authenticate,
    claim,
    heartbeat,
    receiveUpload,
    complete: completion.complete,
    completeWithParts: completion.completeWithParts,
    /** Whether presigned uploads can be offered (disk storage). */
    get presignedUploads(): boolean {
      return deps.uploadSigner !== undefined;
    },
    get maxUploadBytes(): number {
      return maxUploadBytes;
    },
    get maxWaitSeconds(): number {
      return maxWaitSeconds;
    },
    createWorker: (name: string) => deps.tokens.create(name, clock()),
    listWorkers: () => deps.tokens.list(),
    async removeWorker(idOrName: string): Promise<boolean> {
      const removed = await deps.tokens.remove(idOrName);
      // This node stops accepting the token at once; other nodes within their token cache's lifetime.
      tokenCache.forget(idOrName);
      return removed;
    },

    /** Sweeps expired leases (also when no in-process runner does) and cleans staged uploads. */
    start(): void {
      if (remote.size === 0 || sweeper) return;
      sweeper = setInterval(() => {
        if (clock() - ctx.lastRecovery < Math.min(leaseMs / 2, 1000)) return;
        ctx.recoverExpiredLeases().catch((error: unknown) => deps.logger.warn({ err: error }, 'lease recovery failed'));
      }, Math.max(100, Math.min(leaseMs / 2, 1000)));
      sweeper.unref();
      // Uploads staged by attempts that never completed (expired, canceled) go when the job ends.
      unsubscribe = deps.events.subscribe('*', (event) => {
        if (event.type !== 'failed' && event.type !== 'canceled') return;
        void deps.jobs
          .findById(event.jobId)
          .then((job) => (job && ctx.isRemoteJob(job) ? ctx.deleteStaging(job) : undefined))
          .catch((error: unknown) => deps.logger.warn({ jobId: event.jobId, err: error }, 'staged upload clean-up failed'));
      });
    },

    async stop(): Promise<void> {
      stopping.abort();
      if (sweeper) clearInterval(sweeper);
      sweeper = undefined;
      unsubscribe?.();
      unsubscribe = undefined;
      await completion.settle();
    },
  };
}

export type WorkerService = ReturnType<typeof createWorkerService>;
