import { describe, expect, it } from 'vitest';
import type { GenerateContext } from '../../../src/backends/backend.js';
import { withTimeLimits } from '../../../src/backends/routing/time-limits.js';
import { RetryableError } from '../../../src/errors/signals.js';

const context = (): GenerateContext => ({ signal: new AbortController().signal, onProgress: () => {} });

/** A call that settles only when the test says, and tells the limit it started when asked. */
function controlledCall() {
  let settle!: (value: string) => void;
  let begin!: () => void;
  const result = new Promise<string>((resolve) => (settle = resolve));
  const began = new Promise<GenerateContext>((resolve) => (begin = () => resolve(seen!)));
  let seen: GenerateContext | undefined;
  const run = (ctx: GenerateContext) => {
    seen = ctx;
    begin();
    return result;
  };
  return { run, began, settle };
}

describe('withTimeLimits', () => {
  it('ends the warm-up when the backend says it started, without any progress (model loading)', async () => {
    const call = controlledCall();
    const outcome = withTimeLimits(call.run, context(), { warmupMs: 80, generationMs: 60_000 });
    const ctx = await call.began;
    ctx.onStarted?.();
    // Well past the warm-up limit, measured by the limit's own timer rather than ours: a second
    // limited call that never starts must expire first.
    const idle = withTimeLimits(() => new Promise<never>(() => {}), context(), { warmupMs: 200, generationMs: 60_000 });
    await expect(idle).rejects.toMatchObject({ code: 'backend_timeout' });
    call.settle('done');
    await expect(outcome).resolves.toBe('done');
  });

  it('still expires a call that never starts, naming the warm-up', async () => {
    const error = await withTimeLimits(() => new Promise<never>(() => {}), context(), { warmupMs: 50, generationMs: 60_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/did not start within 0.05 s/);
  });

  it('passes onStarted on to the caller too', async () => {
    const call = controlledCall();
    let told = 0;
    const outcome = withTimeLimits(call.run, { ...context(), onStarted: () => (told += 1) }, { warmupMs: 5_000, generationMs: 60_000 });
    (await call.began).onStarted?.();
    call.settle('ok');
    await outcome;
    expect(told).toBe(1);
  });
});
