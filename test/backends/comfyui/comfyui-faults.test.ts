import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backends/backend.js';
import { loadWorkflowTemplate } from '../../../src/backends/comfyui/workflow-template.js';
import txt2img from '../../../src/backends/comfyui/workflows/sd15-txt2img.api.json' with { type: 'json' };
import { sd15Txt2ImgBindings } from '../../../src/backends/comfyui/workflows/sd15-txt2img.bindings.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../../src/errors/signals.js';
import { startFakeComfyUI, type FakeComfyUI } from '../../helpers/fake-comfyui/fake-comfyui.js';
import { backendFor, images, recorder, settlesWithin, spec } from './fixtures.js';

/** Every fault must settle the job well inside this, with the small timeouts of backendFor. */
const BOUND_MS = 5_000;

describe('ComfyUI backend faults: the right error class, never a hang', () => {
  let fake: FakeComfyUI;
  let backend: Backend;
  const run = (overrides = {}) => settlesWithin(backend.generate(spec(overrides), recorder().ctx), BOUND_MS);
  beforeEach(async () => {
    fake = await startFakeComfyUI();
    backend = backendFor(fake.url);
  });
  afterEach(async () => {
    await backend.close?.();
    await fake.close();
  });

  it('HTTP 500 on /prompt is retryable', async () => {
    fake.failNextPrompt(500);
    const { error } = await run();
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed', message: expect.stringContaining('HTTP 500') });
  });

  it('a graph ComfyUI refuses with node_errors is unrecoverable and names the node and error', async () => {
    await backend.close?.();
    backend = backendFor(fake.url, { samplers: { Euler: { sampler_name: 'bogus', scheduler: 'normal' } } });
    const { error } = await run();
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'backend_rejected' });
    expect((error as Error).message).toMatch(/prompt_outputs_failed_validation.*node 3 \(KSampler\): Value not in list: sampler_name: 'bogus' not in/);
  });

  it('a graph with an unknown node class is unrecoverable and names the node', async () => {
    const graph = structuredClone(txt2img) as Record<string, { class_type: string }>;
    graph['9']!.class_type = 'SaveImageToTheMoon';
    await backend.close?.();
    backend = backendFor(fake.url, { workflows: { t2i: loadWorkflowTemplate('moon', graph, sd15Txt2ImgBindings, 't2i') } });
    const { error } = await run();
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_rejected' });
    expect((error as Error).message).toContain("node SaveImageToTheMoon does not exist. (Node ID '#9')");
  });

  it('a slow /prompt times out as backend_timeout after looking for the prompt to withdraw', async () => {
    await backend.close?.();
    backend = backendFor(fake.url, { timeouts: { connectMs: 200, generationMs: 300 } });
    fake.slow(3_000);
    const { error, elapsed } = await run();
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_timeout' });
    expect(elapsed).toBeLessThan(2_500);
    // The POST's answer never came, so ComfyUI may hold the prompt: the adapter asks the queue
    // before it interrupts anything (a blind /interrupt stops other clients' prompts).
    expect(fake.requests).toContain('GET /queue');
  });

  it('a prompt that never finishes times out as backend_timeout and is interrupted', async () => {
    await backend.close?.();
    backend = backendFor(fake.url, { timeouts: { connectMs: 500, generationMs: 600 } });
    fake.neverFinish();
    const { error, elapsed } = await run();
    expect(error).toMatchObject({ name: 'RetryableError', code: 'backend_timeout' });
    expect(elapsed).toBeLessThan(3_000);
    expect(fake.interrupts).toContainEqual({ prompt_id: fake.prompts[0]!.prompt_id });
  });

  it('a node error during execution is unrecoverable with the exception type and message', async () => {
    fake.nodeError();
    const { error } = await run();
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_failed' });
    expect((error as Error).message).toBe('ComfyUI failed in node 3 (KSampler): RuntimeError: CUDA error: device-side assert triggered');
  });

  it('an interrupt Atelier did not send (ComfyUI UI, another client) is a retryable backend_failed, not a cancel', async () => {
    const { ctx, progress } = recorder();
    const job = settlesWithin(backend.generate(spec({ steps: 100 }), ctx), BOUND_MS);
    await expect.poll(() => progress.length).toBeGreaterThan(1);
    await fetch(`${fake.url}/api/interrupt`, { method: 'POST' });
    const { error } = await job;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed' });
    expect((error as Error).message).toMatch(/interrupted prompt .* without Atelier asking/);
  });

  it('survives the socket dropping mid-job: reconnects, polls history, returns the outputs', async () => {
    fake.dropSocketMidJob();
    const { value, error } = await run({ steps: 10, numImages: 2 });
    expect(error).toBeUndefined();
    expect(images(value!).map((o) => [o.index, o.width, o.height])).toEqual([[0, 64, 48], [1, 64, 48]]);
    await expect.poll(() => fake.connections()).toBeGreaterThanOrEqual(2);
    const next = await run(); // the reconnected socket serves the next job
    expect(next.error).toBeUndefined();
  });

  it('is retryable when ComfyUI goes away mid-job and cannot be reached', async () => {
    const { ctx, progress } = recorder();
    const job = settlesWithin(backend.generate(spec({ steps: 100 }), ctx), BOUND_MS);
    await expect.poll(() => progress.length).toBeGreaterThan(1);
    await fake.close();
    const { error } = await job;
    expect(error).toBeInstanceOf(RetryableError);
    expect(error).toMatchObject({ code: 'backend_failed' });
    fake = await startFakeComfyUI(); // for afterEach
  });

  it('is retryable when ComfyUI is not running at all', async () => {
    await fake.close();
    const { error, elapsed } = await run();
    expect(error).toBeInstanceOf(RetryableError);
    expect(elapsed).toBeLessThan(2_000);
    fake = await startFakeComfyUI();
  });

  it('history without images is unrecoverable', async () => {
    fake.malformedHistory('no-images');
    const { error } = await run();
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/history lists no output images/);
  });

  it('/view returning something other than a PNG is unrecoverable', async () => {
    fake.malformedHistory('not-png');
    const { error } = await run();
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/is not a PNG \(starts ffd8ff/);
  });

  it('/view answering 404 for a listed file is retryable', async () => {
    fake.malformedHistory('missing-file');
    const { error } = await run();
    expect(error).toBeInstanceOf(RetryableError);
    expect((error as Error).message).toMatch(/HTTP 404 \(listed in history but missing\)/);
  });

  it('is unhealthy when /system_stats is slower than connectMs', async () => {
    fake.slow(1_500);
    const { value, elapsed } = await settlesWithin(backend.health!(), BOUND_MS);
    expect(value).toBe(false);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('follows the prompt_id an older ComfyUI assigns instead of ours', async () => {
    await fake.close();
    fake = await startFakeComfyUI({ ignoreClientPromptId: true });
    await backend.close?.();
    backend = backendFor(fake.url);
    const { ctx, progress } = recorder();
    const { error } = await settlesWithin(backend.generate(spec({ steps: 5 }), ctx), BOUND_MS);
    expect(error).toBeUndefined();
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses an image-to-image job without a reference before touching ComfyUI', async () => {
    const { error } = await run({ mode: 'i2i', denoiseStrength: 0.5 });
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'invalid_parameter' });
    expect(fake.prompts).toHaveLength(0);
  });

  it('refuses a sampler it cannot map', async () => {
    const { error } = await run({ sampler: 'LMS' });
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'capability_unsupported' });
  });
});
