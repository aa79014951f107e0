import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createA1111Backend, type A1111BackendOptions } from '../../../src/backends/a1111/a1111-backend.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../../src/errors/signals.js';
import { startFakeA1111, type A1111Fault, type FakeA1111 } from '../../helpers/fake-a1111.js';
import { makeSpec, runBackend, waitFor } from '../../helpers/backend-spec.js';

let fake: FakeA1111;
beforeEach(async () => {
  fake = await startFakeA1111({ stepDelayMs: 20 });
});
afterEach(async () => fake.close());

const backend = (overrides: Partial<A1111BackendOptions> = {}) =>
  createA1111Backend({ url: fake.url, timeouts: { connectMs: 1000, generationMs: 5000 }, progressPollMs: 5, ...overrides });

/** Runs a job expected to fail; returns the error and how long the promise took to settle. */
async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await promise.then(() => new Error('expected a failure'), (e: unknown) => e);
  return { error, ms: Date.now() - started };
}

describe('a1111 backend: cancel', () => {
  it('calls /interrupt and throws CanceledError when the signal aborts mid-run', async () => {
    const abort = new AbortController();
    const run = runBackend(backend(), makeSpec({ steps: 100 }), { signal: abort.signal });
    await waitFor(() => fake.count('/sdapi/v1/progress') > 3);
    abort.abort();
    const { error, ms } = await failure(run);
    expect(error).toBeInstanceOf(CanceledError);
    expect(ms).toBeLessThan(1000);
    expect(fake.count('/sdapi/v1/interrupt')).toBe(1);
  });

  it('rethrows a signal error given as the abort reason (a wrapper timing the job out)', async () => {
    const abort = new AbortController();
    const run = runBackend(backend(), makeSpec({ steps: 100 }), { signal: abort.signal });
    await waitFor(() => fake.generations().length === 1);
    abort.abort(new RetryableError('The backend did not finish within 1 s', 'backend_timeout'));
    await expect(run).rejects.toMatchObject({ name: 'RetryableError', code: 'backend_timeout' });
    await waitFor(() => fake.count('/sdapi/v1/interrupt') === 1);
  });

  it('does not call the server at all when already aborted', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(runBackend(backend(), makeSpec(), { signal: abort.signal })).rejects.toBeInstanceOf(CanceledError);
    expect(fake.generations()).toHaveLength(0);
  });
});

describe('a1111 backend: faults', () => {
  it('a 500 is retryable, and the next attempt succeeds', async () => {
    fake.fail({ kind: 'status', status: 500 });
    const { error } = await failure(runBackend(backend(), makeSpec()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed', message: expect.stringContaining('CUDA out of memory') });
    expect((await runBackend(backend(), makeSpec())).images).toHaveLength(1);
  });

  it('a 422 validation error is unrecoverable and names the field', async () => {
    fake.fail({ kind: 'validation', field: 'steps' });
    const { error } = await failure(runBackend(backend(), makeSpec()));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'backend_rejected', message: expect.stringContaining('steps: value is not a valid integer') });
  });

  it('a server without the API (404) is unrecoverable and says so', async () => {
    const { error } = await failure(runBackend(createA1111Backend({ url: `${fake.url}/no-api`, timeouts: { connectMs: 500, generationMs: 2000 } }), makeSpec()));
    expect(error).toMatchObject({ name: 'UnrecoverableError', message: expect.stringContaining('--api') });
  });

  it('no answer within generationMs interrupts the server and is a retryable backend_timeout', async () => {
    fake.fail({ kind: 'slow', ms: 10_000 });
    const { error, ms } = await failure(runBackend(backend({ timeouts: { connectMs: 500, generationMs: 400 } }), makeSpec({ steps: 2 })));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_timeout' });
    expect(ms).toBeLessThan(2000);
    expect(fake.count('/sdapi/v1/interrupt')).toBe(1);
    await waitFor(() => fake.tasks()[0]?.status === 'done');
    expect(fake.tasks()[0]?.interrupted).toBe(true);
  });

  it('a connection dropped mid-request is retryable', async () => {
    fake.fail({ kind: 'drop', afterSteps: 2 });
    const { error, ms } = await failure(runBackend(backend(), makeSpec()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed' });
    expect(ms).toBeLessThan(2000);
  });

  it('a refused connection is retryable', async () => {
    const url = fake.url;
    await fake.close();
    fake = await startFakeA1111();
    const { error } = await failure(runBackend(createA1111Backend({ url, timeouts: { connectMs: 500, generationMs: 2000 } }), makeSpec()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed', message: expect.stringContaining('ECONNREFUSED') });
  });

  it.each<A1111Fault & { kind: 'malformed' }>([
    { kind: 'malformed', what: 'json' },
    { kind: 'malformed', what: 'no-images' },
    { kind: 'malformed', what: 'not-image' },
    { kind: 'malformed', what: 'info' },
  ])('a malformed answer ($what) is retryable', async (fault) => {
    fake.fail(fault);
    const { error } = await failure(runBackend(backend(), makeSpec()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed', message: expect.stringContaining('malformed') });
  });

  it('a server that accepts but never answers settles at generationMs', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const b = createA1111Backend({ url: `http://127.0.0.1:${port}`, timeouts: { connectMs: 300, generationMs: 300 }, progressPollMs: 20 });
      const { error, ms } = await failure(runBackend(b, makeSpec()));
      expect(error).toMatchObject({ name: 'RetryableError', code: 'backend_timeout' });
      expect(ms).toBeLessThan(1200); // 300 ms, then a best-effort /interrupt of at most connectMs
      expect(await b.health!()).toBe(false);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
