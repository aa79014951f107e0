import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/jobs/backoff.js';
import type { ExpiredLease, Queue, RetryPolicy } from '../../src/queue/queue.js';

export interface QueueFixture {
  readonly queue: Queue;
  /** The backoff the adapter was made with; default base 1000 ms, max 8000 ms. */
  readonly policy?: RetryPolicy;
  /** Moves the adapter's fake clock forward (embedded adapters). */
  advance?(ms: number): void;
  /** Lets `ms` pass for the adapter: really waits, for adapters on real time (BullMQ). */
  elapse?(ms: number): Promise<void>;
  /** The adapter's clock, when it is real time; fake clocks are followed through advance. */
  now?(): number;
  /**
   * How long after a lease expires the adapter may take to report it (BullMQ's stalled
   * checker runs on an interval); 0 when recoverExpired sees it at once.
   */
  readonly recoveryGraceMs?: number;
  cleanup(): Promise<void>;
}

const DEFAULT_POLICY: RetryPolicy = { backoffBaseMs: 1000, backoffMaxMs: 8000 };

/**
 * What every Queue adapter must do, tested only through the port. Time moves through the
 * fixture (a fake clock, or real waiting), and backoff expectations come from its policy.
 */
export function queueContract(name: string, make: () => Promise<QueueFixture>): void {
  describe(`Queue contract: ${name}`, () => {
    let f: QueueFixture;
    let virtualNow = 0;
    let policy: RetryPolicy = DEFAULT_POLICY;
    /** The delay before retry `attempt` under the fixture's policy. */
    const backoff = (attempt: number) => retryDelayMs(attempt, policy.backoffBaseMs, policy.backoffMaxMs);
    const now = () => (f.now ? f.now() : virtualNow);
    const elapse = async (ms: number) => {
      if (f.elapse) await f.elapse(ms);
      else f.advance!(ms);
      virtualNow += ms;
    };
    /** recoverExpired until `expected` leases are reported or the fixture's grace is over. */
    const recover = async (expected: number): Promise<ExpiredLease[]> => {
      const found: ExpiredLease[] = [];
      const deadline = Date.now() + (f.recoveryGraceMs ?? 0);
      for (;;) {
        found.push(...(await f.queue.recoverExpired()));
        if (found.length >= expected || Date.now() >= deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    beforeEach(async () => {
      f = await make();
      policy = f.policy ?? DEFAULT_POLICY;
      virtualNow = 0;
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('claims nothing from an empty queue', async () => {
      expect(await f.queue.claim('w1', 1000)).toBeUndefined();
    });

    it('leases each job to one worker only', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      const first = await f.queue.claim('w1', 1000);
      expect(first).toMatchObject({ jobId: 'a', attempt: 1, maxAttempts: 3 });
      expect(await f.queue.claim('w2', 1000)).toBeUndefined();
    });

    it('enqueue is idempotent per job id', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      expect(await f.queue.counts()).toMatchObject({ waiting: 1, active: 0 });
    });

    it('orders by priority, then first in first out', async () => {
      await f.queue.enqueue('low', { priority: 0, maxAttempts: 1 });
      await elapse(1);
      await f.queue.enqueue('low2', { priority: 0, maxAttempts: 1 });
      await elapse(1);
      await f.queue.enqueue('high', { priority: 5, maxAttempts: 1 });
      const order = [];
      for (let i = 0; i < 3; i++) order.push((await f.queue.claim('w', 1000))!.jobId);
      expect(order).toEqual(['high', 'low', 'low2']);
    });

    it('completes a job once and refuses a stale lease', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      const lease = (await f.queue.claim('w1', 1000))!;
      expect(await f.queue.complete(lease)).toBe(true);
      expect(await f.queue.complete(lease)).toBe(false);
      expect(await f.queue.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
    });

    it('keeps a lease alive with heartbeats', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      const lease = (await f.queue.claim('w1', 1000))!;
      await elapse(800);
      expect(await f.queue.heartbeat(lease, 1000)).toBe(true);
      await elapse(800);
      expect(await f.queue.recoverExpired()).toEqual([]);
      expect(await f.queue.complete(lease)).toBe(true);
    });

    it('reclaim(owner) takes back that owner\'s leases at once, in their place, counting the attempt', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      await elapse(1);
      await f.queue.enqueue('b', { priority: 0, maxAttempts: 3 });
      await elapse(1);
      await f.queue.enqueue('c', { priority: 0, maxAttempts: 3 });
      const held = (await f.queue.claim('node-a', 60_000))!;
      const other = (await f.queue.claim('node-b', 60_000))!;
      expect([held.jobId, other.jobId]).toEqual(['a', 'b']);

      const reclaimed = await f.queue.reclaim('node-a');
      expect(reclaimed).toHaveLength(1);
      expect(reclaimed[0]).toMatchObject({ jobId: 'a', outcome: { kind: 'retry', attempt: 1 }, error: { code: 'lease_expired' } });
      // The old holder is refused; the other owner keeps its lease.
      expect(await f.queue.heartbeat(held, 60_000)).toBe(false);
      expect(await f.queue.heartbeat(other, 60_000)).toBe(true);
      // No backoff, and ahead of c, which was queued after it.
      const again = (await f.queue.claim('node-a', 60_000))!;
      expect(again).toMatchObject({ jobId: 'a', attempt: 2 });
      expect(await f.queue.reclaim('node-c')).toEqual([]);
    });

    it('reclaim(owner) fails a job that has no attempt left', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 1 });
      const held = (await f.queue.claim('node-a', 60_000))!;
      expect(await f.queue.reclaim('node-a')).toEqual([{ jobId: 'a', outcome: { kind: 'failed', attempt: 1 }, error: expect.objectContaining({ code: 'lease_expired' }) }]);
      expect(await f.queue.complete(held)).toBe(false);
      expect(await f.queue.claim('node-a', 60_000)).toBeUndefined();
      expect(await f.queue.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
    });

    it('re-queues an expired lease with backoff and refuses the old holder', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      const stale = (await f.queue.claim('w1', 1000))!;
      await elapse(1001);
      const recovered = await recover(1);
      expect(recovered).toHaveLength(1);
      expect(recovered[0]).toMatchObject({ jobId: 'a', outcome: { kind: 'retry', attempt: 1 }, error: { code: 'lease_expired' } });
      expect(await f.queue.heartbeat(stale, 1000)).toBe(false);
      expect(await f.queue.complete(stale)).toBe(false);
      // The first retry waits backoff(1).
      expect(await f.queue.claim('w2', 1000)).toBeUndefined();
      await elapse(backoff(1));
      const second = await f.queue.claim('w2', 1000);
      expect(second).toMatchObject({ jobId: 'a', attempt: 2 });
      expect(second!.token).not.toBe(stale.token);
    });

    it('doubles the backoff per attempt', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 5 });
      const first = (await f.queue.claim('w', 1000))!;
      const before1 = now();
      const r1 = await f.queue.fail(first, { code: 'backend_failed', message: 'boom' }, true);
      const after1 = now();
      await elapse(backoff(1));
      const second = (await f.queue.claim('w', 1000))!;
      const before2 = now();
      const r2 = await f.queue.fail(second, { code: 'backend_failed', message: 'boom' }, true);
      const after2 = now();
      expect(r1).toMatchObject({ kind: 'retry', attempt: 1 });
      expect(r2).toMatchObject({ kind: 'retry', attempt: 2 });
      const retryAt1 = (r1 as { retryAt: number }).retryAt;
      const retryAt2 = (r2 as { retryAt: number }).retryAt;
      // retryAt = time of the failure + backoff(attempt), and backoff(2) = 2 × backoff(1)
      // (exact on a fake clock; within the calls' own duration on real time).
      expect(backoff(2)).toBe(2 * backoff(1));
      expect(retryAt2 - retryAt1).toBeGreaterThanOrEqual(before2 - after1 + backoff(2) - backoff(1));
      expect(retryAt2 - retryAt1).toBeLessThanOrEqual(after2 - before1 + backoff(2) - backoff(1));
      if (f.now) {
        expect(retryAt1).toBeGreaterThanOrEqual(before1 + backoff(1));
        expect(retryAt1).toBeLessThanOrEqual(after1 + backoff(1));
      }
    });

    it('fails for good after max attempts', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 2 });
      const first = (await f.queue.claim('w', 1000))!;
      expect(await f.queue.fail(first, { code: 'backend_failed', message: 'one' }, true)).toMatchObject({ kind: 'retry' });
      await elapse(backoff(1));
      const second = (await f.queue.claim('w', 1000))!;
      expect(await f.queue.fail(second, { code: 'backend_failed', message: 'two' }, true)).toEqual({ kind: 'failed', attempt: 2 });
      // Longer than any backoff: it never comes back.
      await elapse(2 * policy.backoffMaxMs);
      expect(await f.queue.claim('w', 1000)).toBeUndefined();
    });

    it('fails an expired lease for good when it was the last attempt', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 1 });
      await f.queue.claim('w', 1000);
      await elapse(1001);
      expect(await recover(1)).toMatchObject([{ jobId: 'a', outcome: { kind: 'failed', attempt: 1 } }]);
      expect(await f.queue.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
    });

    it('does not retry an unrecoverable failure', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 5 });
      const lease = (await f.queue.claim('w', 1000))!;
      expect(await f.queue.fail(lease, { code: 'invalid_parameter', message: 'bad' }, false)).toEqual({ kind: 'failed', attempt: 1 });
    });

    it('cancels a waiting job and revokes a running one', async () => {
      await f.queue.enqueue('waiting', { priority: 0, maxAttempts: 3 });
      await f.queue.enqueue('running', { priority: 9, maxAttempts: 3 });
      const lease = (await f.queue.claim('w', 1000))!;
      expect(lease.jobId).toBe('running');
      expect(await f.queue.cancel('waiting')).toBe(true);
      expect(await f.queue.cancel('running')).toBe(true);
      expect(await f.queue.heartbeat(lease, 1000)).toBe(false);
      expect(await f.queue.complete(lease)).toBe(false);
      expect(await f.queue.claim('w', 1000)).toBeUndefined();
      expect(await f.queue.cancel('never-queued')).toBe(false);
    });

    it('resumes the attempt count of a recovered job', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3, attemptsMade: 2 });
      const lease = (await f.queue.claim('w', 1000))!;
      expect(lease.attempt).toBe(3);
      expect(await f.queue.fail(lease, { code: 'backend_failed', message: 'x' }, true)).toMatchObject({ kind: 'failed' });
    });

    it('counts waiting, delayed and active jobs', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      await f.queue.enqueue('b', { priority: 0, maxAttempts: 3 });
      await f.queue.enqueue('c', { priority: 0, maxAttempts: 3, delayMs: 5000 });
      await f.queue.claim('w', 1000);
      expect(await f.queue.counts()).toEqual({ waiting: 1, delayed: 1, active: 1 });
    });

    describe('lanes', () => {
      it('claims only from the named lanes, and from local by default', async () => {
        await f.queue.enqueue('remote-job', { priority: 9, maxAttempts: 3, lane: 'remote:gpu' });
        await f.queue.enqueue('local-job', { priority: 0, maxAttempts: 3 });
        expect(await f.queue.claim('w', 1000)).toMatchObject({ jobId: 'local-job' });
        expect(await f.queue.claim('w', 1000)).toBeUndefined();
        expect(await f.queue.claim('w', 1000, 'remote:other')).toBeUndefined();
        expect(await f.queue.claim('w', 1000, 'remote:gpu')).toMatchObject({ jobId: 'remote-job', attempt: 1 });
      });

      it('claims across several lanes by priority, then age', async () => {
        await f.queue.enqueue('a', { priority: 0, maxAttempts: 1, lane: 'remote:a' });
        await elapse(1);
        await f.queue.enqueue('b', { priority: 0, maxAttempts: 1, lane: 'remote:b' });
        await elapse(1);
        await f.queue.enqueue('c', { priority: 5, maxAttempts: 1, lane: 'remote:b' });
        await f.queue.enqueue('local', { priority: 9, maxAttempts: 1 });
        const order = [];
        for (let i = 0; i < 3; i++) order.push((await f.queue.claim('w', 1000, ['remote:a', 'remote:b']))!.jobId);
        expect(order).toEqual(['c', 'a', 'b']);
        expect(await f.queue.claim('w', 1000, ['remote:a', 'remote:b'])).toBeUndefined();
      });

      it('recovers expired leases of every lane, and a retry keeps its lane', async () => {
        await f.queue.enqueue('r', { priority: 0, maxAttempts: 3, lane: 'remote:gpu' });
        await f.queue.enqueue('l', { priority: 0, maxAttempts: 3 });
        const stale = (await f.queue.claim('w1', 1000, 'remote:gpu'))!;
        await f.queue.claim('w2', 1000);
        await elapse(1001);
        const recovered = await recover(2);
        expect(recovered.map((r) => r.jobId).sort()).toEqual(['l', 'r']);
        expect(await f.queue.complete(stale)).toBe(false);
        await elapse(backoff(1));
        expect(await f.queue.claim('w', 1000)).toMatchObject({ jobId: 'l', attempt: 2 });
        expect(await f.queue.claim('w', 1000)).toBeUndefined();
        const again = await f.queue.claim('w3', 1000, 'remote:gpu');
        expect(again).toMatchObject({ jobId: 'r', attempt: 2 });
        expect(await f.queue.fail(again!, { code: 'backend_failed', message: 'x' }, true)).toMatchObject({ kind: 'retry' });
        await elapse(backoff(2));
        expect(await f.queue.claim('w', 1000)).toBeUndefined();
        expect(await f.queue.claim('w', 1000, 'remote:gpu')).toMatchObject({ jobId: 'r', attempt: 3 });
      });

      it('heartbeats, completes and cancels in any lane', async () => {
        await f.queue.enqueue('r', { priority: 0, maxAttempts: 3, lane: 'remote:gpu' });
        await f.queue.enqueue('s', { priority: 0, maxAttempts: 3, lane: 'remote:gpu' });
        const lease = (await f.queue.claim('w', 1000, 'remote:gpu'))!;
        expect(await f.queue.heartbeat(lease, 1000)).toBe(true);
        expect(await f.queue.complete(lease)).toBe(true);
        expect(await f.queue.counts()).toEqual({ waiting: 1, delayed: 0, active: 0 });
        expect(await f.queue.cancel(lease.jobId === 'r' ? 's' : 'r')).toBe(true);
        expect(await f.queue.counts()).toEqual({ waiting: 0, delayed: 0, active: 0 });
      });

      it('wakes only the waiters of the lane that got work', async () => {
        const started = Date.now();
        const remoteWaiter = f.queue.waitForWork(5000, undefined, ['remote:gpu']).then(() => Date.now() - started);
        await f.queue.enqueue('local', { priority: 0, maxAttempts: 1 });
        const early = await Promise.race([remoteWaiter, new Promise((r) => setTimeout(() => r('still waiting'), 150))]);
        expect(early).toBe('still waiting');
        await f.queue.enqueue('remote', { priority: 0, maxAttempts: 1, lane: 'remote:gpu' });
        expect(await remoteWaiter).toBeLessThan(2000);
        // The local wake-up is still pending for a local waiter.
        const localStarted = Date.now();
        await f.queue.waitForWork(5000);
        expect(Date.now() - localStarted).toBeLessThan(1000);
      });
    });

    it('wakes a waiting runner when work arrives', async () => {
      const started = Date.now();
      const waiting = f.queue.waitForWork(5000);
      setTimeout(() => void f.queue.enqueue('a', { priority: 0, maxAttempts: 1 }), 20);
      await waiting;
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });
}
