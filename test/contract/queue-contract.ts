import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Queue } from '../../src/queue/queue.js';

export interface QueueFixture {
  readonly queue: Queue;
  /** Moves the adapter's clock forward. */
  advance(ms: number): void;
  cleanup(): Promise<void>;
}

/**
 * What every Queue adapter must do, tested only through the port. Backoff in the fixture is
 * base 1000 ms, max 8000 ms.
 */
export function queueContract(name: string, make: () => Promise<QueueFixture>): void {
  describe(`Queue contract: ${name}`, () => {
    let f: QueueFixture;
    beforeEach(async () => {
      f = await make();
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
      f.advance(1);
      await f.queue.enqueue('low2', { priority: 0, maxAttempts: 1 });
      f.advance(1);
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
      f.advance(800);
      expect(await f.queue.heartbeat(lease, 1000)).toBe(true);
      f.advance(800);
      expect(await f.queue.recoverExpired()).toEqual([]);
      expect(await f.queue.complete(lease)).toBe(true);
    });

    it('re-queues an expired lease with backoff and refuses the old holder', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 3 });
      const stale = (await f.queue.claim('w1', 1000))!;
      f.advance(1001);
      const recovered = await f.queue.recoverExpired();
      expect(recovered).toHaveLength(1);
      expect(recovered[0]).toMatchObject({ jobId: 'a', outcome: { kind: 'retry', attempt: 1 }, error: { code: 'lease_expired' } });
      expect(await f.queue.heartbeat(stale, 1000)).toBe(false);
      expect(await f.queue.complete(stale)).toBe(false);
      // Backoff of the first retry is 1000 ms.
      expect(await f.queue.claim('w2', 1000)).toBeUndefined();
      f.advance(1000);
      const second = await f.queue.claim('w2', 1000);
      expect(second).toMatchObject({ jobId: 'a', attempt: 2 });
      expect(second!.token).not.toBe(stale.token);
    });

    it('doubles the backoff per attempt', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 5 });
      const first = (await f.queue.claim('w', 1000))!;
      const r1 = await f.queue.fail(first, { code: 'backend_failed', message: 'boom' }, true);
      f.advance(1000);
      const second = (await f.queue.claim('w', 1000))!;
      const r2 = await f.queue.fail(second, { code: 'backend_failed', message: 'boom' }, true);
      expect(r1).toMatchObject({ kind: 'retry', attempt: 1 });
      expect(r2).toMatchObject({ kind: 'retry', attempt: 2 });
      const delay1 = (r1 as { retryAt: number }).retryAt;
      const delay2 = (r2 as { retryAt: number }).retryAt;
      expect(delay2 - delay1).toBe(1000 + 2000 - 1000);
    });

    it('fails for good after max attempts', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 2 });
      const first = (await f.queue.claim('w', 1000))!;
      expect(await f.queue.fail(first, { code: 'backend_failed', message: 'one' }, true)).toMatchObject({ kind: 'retry' });
      f.advance(1000);
      const second = (await f.queue.claim('w', 1000))!;
      expect(await f.queue.fail(second, { code: 'backend_failed', message: 'two' }, true)).toEqual({ kind: 'failed', attempt: 2 });
      f.advance(60_000);
      expect(await f.queue.claim('w', 1000)).toBeUndefined();
    });

    it('fails an expired lease for good when it was the last attempt', async () => {
      await f.queue.enqueue('a', { priority: 0, maxAttempts: 1 });
      await f.queue.claim('w', 1000);
      f.advance(1001);
      expect(await f.queue.recoverExpired()).toMatchObject([{ jobId: 'a', outcome: { kind: 'failed', attempt: 1 } }]);
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
        f.advance(1);
        await f.queue.enqueue('b', { priority: 0, maxAttempts: 1, lane: 'remote:b' });
        f.advance(1);
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
        f.advance(1001);
        const recovered = await f.queue.recoverExpired();
        expect(recovered.map((r) => r.jobId).sort()).toEqual(['l', 'r']);
        expect(await f.queue.complete(stale)).toBe(false);
        f.advance(1000);
        expect(await f.queue.claim('w', 1000)).toMatchObject({ jobId: 'l', attempt: 2 });
        expect(await f.queue.claim('w', 1000)).toBeUndefined();
        const again = await f.queue.claim('w3', 1000, 'remote:gpu');
        expect(again).toMatchObject({ jobId: 'r', attempt: 2 });
        expect(await f.queue.fail(again!, { code: 'backend_failed', message: 'x' }, true)).toMatchObject({ kind: 'retry' });
        f.advance(2000);
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
