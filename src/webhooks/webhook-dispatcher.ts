import type { ClaimedDelivery, DeliverySettlement, WebhookDeliveriesRepo } from '../db/repos/webhook-deliveries-repo.js';
import type { Logger } from '../observability/logger.js';
import { DEFAULT_RETRY_SCHEDULE, nextAttemptAt, type RetrySchedule } from './retry-schedule.js';
import { signWebhook } from './sign-webhook.js';
import type { WebhookMetrics } from './webhook-metrics.js';
import type { WebhookPost } from './post-webhook.js';

export interface WebhookDispatcherDeps {
  readonly deliveries: WebhookDeliveriesRepo;
  /** The body of a delivery: the run as `GET /api/status/{id}` shows it now; undefined when the run is gone. */
  readonly renderRun: (jobId: string) => Promise<unknown>;
  /** The user's signing secret (`whsec_…`), created on first use. */
  readonly secretFor: (userId: string) => Promise<string>;
  /** Sends one attempt; resolves with the HTTP status, rejects when there is none (src/webhooks/post-webhook.ts). */
  readonly post: (post: WebhookPost) => Promise<number>;
  readonly metrics?: WebhookMetrics;
  readonly logger: Logger;
  /** Epoch ms; the retry schedule, the claims and the signatures' timestamps follow it. */
  readonly clock?: () => number;
  /** In [0, 1): the retry delays' jitter. */
  readonly random?: () => number;
}

export interface WebhookDispatcherOptions {
  /** This node's identity (NODE_ID): the owner of its claims, which a restart takes back. */
  readonly nodeId: string;
  /** The limit of one attempt (see post-webhook.ts); a claim outlives it by a margin. */
  readonly attemptTimeoutMs: number;
  /** How often an idle dispatcher looks for due deliveries it was not told about (another node's, an expired claim). */
  readonly pollMs: number;
  /** Attempts in flight at once in this process. Default 16. */
  readonly concurrency?: number;
  readonly schedule?: RetrySchedule;
  /** False: no timers and no wake-ups — whoever holds the dispatcher drives {@link WebhookDispatcher.tick} (tests). Default true. */
  readonly autoRun?: boolean;
}

/** Sends due webhook deliveries of every node's runs (see {@link createWebhookDispatcher}). */
export interface WebhookDispatcher {
  /** Takes back this node's claims from before a restart, then sends whatever is due. */
  start(): Promise<void>;
  /** Something may be due now (a run with a webhook changed status here): look soon. Cheap; calls coalesce. */
  wake(): void;
  /** Claims what is due now and sends it; resolves with how many attempts were made, once they are recorded. */
  tick(): Promise<number>;
  /** Stops looking. Attempts in flight are abandoned unrecorded: their claims make them due again (at once on this node's next start). */
  stop(): Promise<void>;
}

/** How long a claim outlives its attempt's own time limit before another node may take the delivery over. */
const CLAIM_MARGIN_MS = 60_000;

/**
 * The webhook dispatcher of one server process. Every node runs one over the shared
 * database; deliveries are claimed row by row (webhook-deliveries-repo.ts: `SKIP LOCKED` on
 * PostgreSQL), so each attempt is made by one node, and a claim outlives its attempt so that
 * a node that dies mid-attempt hands the delivery to another after the claim expires — or to
 * itself at once when it restarts with the same NODE_ID.
 *
 * It looks for due deliveries when woken (a run with a webhook changed status in this
 * process), when a retry it scheduled falls due, and every `pollMs` otherwise; it never asks
 * the database about runs without a webhook. Each attempt POSTs the run's current view,
 * signed per Standard Webhooks with the same `webhook-id` every time, and records the outcome:
 * delivered on a 2xx, otherwise retried with backoff until the retry window has passed.
 *
 * @example
 * const dispatcher = createWebhookDispatcher(deps, { nodeId, attemptTimeoutMs: 10_000, pollMs: 15_000 });
 * await dispatcher.start();
 * // after a status change of a run with a webhook:
 * dispatcher.wake();
 */
export function createWebhookDispatcher(deps: WebhookDispatcherDeps, options: WebhookDispatcherOptions): WebhookDispatcher {
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;
  const schedule = options.schedule ?? DEFAULT_RETRY_SCHEDULE;
  const concurrency = options.concurrency ?? 16;
  const autoRun = options.autoRun ?? true;
  const claimMs = options.attemptTimeoutMs + CLAIM_MARGIN_MS;
  const inFlight = new Set<Promise<void>>();
  /** Aborts the attempts in flight at shutdown. */
  const stopping = new AbortController();
  /** Until start(), and after stop(): no claims but those of tick(). */
  let stopped = true;
  let pumping: Promise<void> | undefined;
  let again = false;
  /** True when the last claim took every free slot: more may be due once one frees up. */
  let backlog = false;
  /** The earliest retry this process scheduled and has not looked for yet. */
  let earliestDue: number | undefined;
  let timer: NodeJS.Timeout | undefined;

  /** Claims as many due deliveries as there are free slots and starts them. */
  async function claimAndSend(): Promise<ClaimedDelivery[]> {
    const free = concurrency - inFlight.size;
    if (free <= 0) return [];
    const now = clock();
    const claimed = await deps.deliveries.claimDue(options.nodeId, now, now + claimMs, free);
    backlog = claimed.length === free;
    for (const claim of claimed) {
      const attempt: Promise<void> = send(claim)
        .catch((error: unknown) => deps.logger.error({ err: error, webhookId: claim.id }, 'recording a webhook attempt failed; its claim will expire and it will be retried'))
        .finally(() => {
          inFlight.delete(attempt);
          if (backlog) wake();
        });
      inFlight.add(attempt);
    }
    return claimed;
  }

  /** One attempt of a claimed delivery, and its record. */
  async function send(claim: ClaimedDelivery): Promise<void> {
    const startedAt = clock();
    let statusCode: number | null = null;
    let error: string | null = null;
    let gone = false;
    try {
      const view = await deps.renderRun(claim.job_id);
      if (view === undefined) {
        gone = true;
        error = 'The run no longer exists';
      } else {
        const body = JSON.stringify(view);
        const secret = await deps.secretFor(claim.user_id);
        const headers = { ...signWebhook(secret, claim.id, Math.floor(clock() / 1000), body), 'atelier-webhook-event': claim.event };
        statusCode = await deps.post({ url: claim.url, body, headers, signal: stopping.signal });
        if (statusCode < 200 || statusCode > 299) error = `The receiver answered HTTP ${statusCode}`;
      }
    } catch (failure) {
      // Stopping: leave the claim in place, so the delivery is due again (at once if this node restarts).
      if (stopping.signal.aborted) return;
      error = failure instanceof Error ? failure.message : String(failure);
    }
    const now = clock();
    const next = error === null || gone ? undefined : nextAttemptAt(claim.attempts, Number(claim.created_at), now, schedule, random);
    const settlement: DeliverySettlement = error === null ? { state: 'delivered' } : next === undefined ? { state: 'failed' } : { state: 'pending', nextAttemptAt: next };
    const recorded = await deps.deliveries.settle(claim, options.nodeId, settlement, { startedAt, durationMs: now - startedAt, statusCode, error }, now);
    if (!recorded) {
      deps.logger.warn({ webhookId: claim.id, attempt: claim.attempts }, 'a webhook attempt finished after its claim expired; another node owns the delivery now');
      return;
    }
    const outcome = settlement.state === 'delivered' ? 'delivered' : settlement.state === 'pending' ? 'retrying' : 'gave_up';
    deps.metrics?.attempts.inc({ outcome });
    if (settlement.state === 'delivered') {
      deps.logger.debug({ webhookId: claim.id, jobId: claim.job_id, event: claim.event, attempt: claim.attempts, status: statusCode }, 'webhook delivered');
    } else {
      const fields = { webhookId: claim.id, jobId: claim.job_id, event: claim.event, attempt: claim.attempts, status: statusCode, error };
      if (settlement.state === 'pending') {
        deps.logger.info({ ...fields, retryAt: new Date(settlement.nextAttemptAt).toISOString() }, 'webhook attempt failed; retrying later');
        noteDue(settlement.nextAttemptAt);
      } else deps.logger.warn(fields, 'webhook delivery given up');
    }
  }

  function noteDue(at: number): void {
    if (earliestDue !== undefined && earliestDue <= at) return;
    earliestDue = at;
    if (!pumping) arm();
  }

  /** Sets the timer for the earliest retry this process knows of, or the next poll. */
  function arm(): void {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    const now = clock();
    const at = Math.min(earliestDue ?? Infinity, now + options.pollMs);
    timer = setTimeout(
      () => {
        timer = undefined;
        if (earliestDue !== undefined && earliestDue <= clock()) earliestDue = undefined;
        wake();
      },
      Math.max(0, at - now),
    );
    // Nothing due must keep a process alive that has nothing else to do.
    timer.unref();
  }

  function wake(): void {
    if (stopped) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = (async () => {
      do {
        again = false;
        await claimAndSend();
      } while (again && !stopped);
    })()
      .catch((error: unknown) => deps.logger.error({ err: error }, 'claiming due webhook deliveries failed'))
      .finally(() => {
        pumping = undefined;
        arm();
      });
  }

  return {
    async start() {
      const taken = await deps.deliveries.reclaim(options.nodeId, clock());
      if (taken > 0) deps.logger.info({ deliveries: taken }, 'taking back webhook deliveries this node was sending when it stopped');
      if (!autoRun) return;
      stopped = false;
      wake();
    },

    wake,

    async tick() {
      const claimed = await claimAndSend();
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      return claimed.length;
    },

    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      stopping.abort(new Error('The server is shutting down'));
      await pumping;
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
