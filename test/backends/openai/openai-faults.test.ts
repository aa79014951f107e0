import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIImagesBackend, type OpenAIImagesBackendOptions } from '../../../src/backends/openai/openai-images-backend.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../../src/errors/signals.js';
import { startFakeOpenAIImages, type FakeOpenAIImages, type OpenAIFault } from '../../helpers/fake-openai-images.js';
import { makeSpec, runBackend, waitFor } from '../../helpers/backend-spec.js';

const KEY = 'sk-test-123';
let fake: FakeOpenAIImages;
beforeEach(async () => {
  fake = await startFakeOpenAIImages({ apiKey: KEY });
});
afterEach(async () => fake.close());

const backend = (overrides: Partial<OpenAIImagesBackendOptions> = {}) =>
  createOpenAIImagesBackend({ url: fake.url, apiKey: KEY, model: 'gpt-image-2', timeouts: { connectMs: 1000, generationMs: 5000 }, ...overrides });

async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await promise.then(() => new Error('expected a failure'), (e: unknown) => e);
  return { error, ms: Date.now() - started };
}

describe('openai backend: upstream errors', () => {
  it('a rejected API key is unrecoverable and says so', async () => {
    const { error } = await failure(runBackend(backend({ apiKey: 'sk-wrong' }), makeSpec()));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'backend_failed', message: expect.stringMatching(/upstream rejected the API key.*Incorrect API key/) });
  });

  it('a 400 invalid_request_error is unrecoverable with the upstream message and param', async () => {
    const { error } = await failure(runBackend(backend({ model: 'dall-e-2', sizes: ['1024x768'] }), makeSpec({ width: 1024, height: 768 })));
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'backend_rejected', message: expect.stringMatching(/Invalid value: '1024x768'.*\(param: size\) \[invalid_value\]/) });
  });

  it('a safety refusal is prompt_refused', async () => {
    const { error } = await failure(runBackend(backend(), makeSpec({ prompt: 'something forbidden' })));
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'prompt_refused' });
  });

  it('a 429 rate limit is retryable and reports Retry-After', async () => {
    fake.fail({ kind: 'status', status: 429, error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' }, headers: { 'retry-after': '20' } });
    const { error } = await failure(runBackend(backend(), makeSpec()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed', message: expect.stringContaining('retry after 20 s') });
  });

  it('a 429 for an exhausted quota is unrecoverable', async () => {
    fake.fail({ kind: 'status', status: 429, error: { message: 'You exceeded your current quota', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } });
    await expect(runBackend(backend(), makeSpec())).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'backend_failed' });
  });

  it('a 500 is retryable, and the next attempt succeeds', async () => {
    fake.fail({ kind: 'status', status: 500 });
    const { error } = await failure(runBackend(backend(), makeSpec()));
    expect(error).toBeInstanceOf(RetryableError);
    expect((await runBackend(backend(), makeSpec())).images).toHaveLength(1);
  });
});

describe('openai backend: transport faults and cancel', () => {
  it('no answer within generationMs is a retryable backend_timeout', async () => {
    fake.fail({ kind: 'slow', ms: 3000 });
    const { error, ms } = await failure(runBackend(backend({ timeouts: { connectMs: 500, generationMs: 300 } }), makeSpec()));
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_timeout', message: expect.stringContaining('300 ms') });
    expect(ms).toBeLessThan(1000);
  });

  it('a dropped connection is retryable', async () => {
    fake.fail({ kind: 'drop' });
    await expect(runBackend(backend(), makeSpec())).rejects.toMatchObject({ name: 'RetryableError', code: 'backend_failed' });
  });

  it('a refused connection is retryable', async () => {
    const url = fake.url;
    await fake.close();
    fake = await startFakeOpenAIImages();
    const { error } = await failure(runBackend(createOpenAIImagesBackend({ url, model: 'gpt-image-1', timeouts: { connectMs: 300, generationMs: 1000 } }), makeSpec({ width: 1024, height: 1024 })));
    expect(error).toMatchObject({ name: 'RetryableError', code: 'backend_failed', message: expect.stringContaining('ECONNREFUSED') });
  });

  it.each<OpenAIFault & { kind: 'malformed' }>([
    { kind: 'malformed', what: 'json' },
    { kind: 'malformed', what: 'no-data' },
    { kind: 'malformed', what: 'not-image' },
    { kind: 'malformed', what: 'short' },
  ])('a malformed answer ($what) is retryable', async (fault) => {
    fake.fail(fault);
    await expect(runBackend(backend(), makeSpec({ numImages: 2 }))).rejects.toMatchObject({ name: 'RetryableError', code: 'backend_failed', message: expect.stringContaining('malformed') });
  });

  it('aborting the signal ends the request at once with CanceledError', async () => {
    fake.fail({ kind: 'slow', ms: 3000 });
    const abort = new AbortController();
    const run = failure(runBackend(backend(), makeSpec(), { signal: abort.signal }));
    await waitFor(() => fake.requests.length === 1);
    abort.abort();
    const { error, ms } = await run;
    expect(error).toBeInstanceOf(CanceledError);
    expect(ms).toBeLessThan(1000);
  });
});
