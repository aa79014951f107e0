import { AtelierError } from '../errors/atelier-error.js';
import { createWorkerClaims } from './worker-claims.js';
import { createWorkerCompletion } from './worker-completion.js';
import { createWorkerContext, type WorkerServiceDeps, type WorkerServiceOptions } from './worker-context.js';
import { createWorkerUploads } from './worker-uploads.js';
import { WORKER_TOKEN_PREFIX, type WorkerTokenRow } from '../db/repos/worker-tokens-repo.js';

export { formatLeaseToken, parseLeaseToken, type WorkerServiceDeps, type WorkerServiceOptions } from './worker-context.js';
export type { UploadAuth } from './upload-auth.js';

const SEEN_THROTTLE_MS = 30_000;

/**
 * The server side of the remote-worker protocol (docs/worker-protocol.md); the client is
 * src/reference-worker. Long-poll claims from the remote
 * lanes, heartbeats that keep the lease and relay progress and previews (worker-claims.ts),
 * staged uploads (worker-uploads.ts) and the completion callback — committed through the
 * attempt pipeline the in-process runner uses (worker-completion.ts): assets and success in one
 * transaction guarded by the attempt, so a late or repeated callback from a lost lease can
 * never give a job a second set of assets.
 */
export function createWorkerService(deps: WorkerServiceDeps, options: WorkerServiceOptions) {
  const ctx = createWorkerContext(deps, options);
  const { clock, leaseMs, remote, stopping, maxUploadBytes, maxWaitSeconds } = ctx;
  const { claim, heartbeat } = createWorkerClaims(ctx);
  const { receiveUpload } = createWorkerUploads(ctx);
  const completion = createWorkerCompletion(ctx);
  const lastSeen = new Map<string, number>();
  let sweeper: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  async function authenticate(token: string | undefined): Promise<WorkerTokenRow> {
    if (!token) throw new AtelierError('unauthorized', 'Missing bearer token: send Authorization: Bearer <worker token> (atw_…, from `atelier workers add`)');
    if (!token.startsWith(WORKER_TOKEN_PREFIX)) {
      throw new AtelierError('forbidden', 'The worker API takes a worker token (atw_…, from `atelier workers add` or POST /api/admin/workers), not an API token');
    }
    const worker = await deps.tokens.findByToken(token);
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
    removeWorker: (idOrName: string) => deps.tokens.remove(idOrName),

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
