import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/backends/backend.js';
import type { HistoryEntry } from '../../../src/backends/comfyui/comfyui-http.js';
import { checkStatus } from '../../../src/backends/comfyui/run-prompt.js';
import txt2img from '../../../src/backends/comfyui/workflows/sd15-txt2img.api.json' with { type: 'json' };
import { createRoutedBackend } from '../../../src/backends/routing/routed-backend.js';
import { CanceledError, RetryableError, UnrecoverableError } from '../../../src/errors/signals.js';
import { startFakeComfyUI, type FakeComfyOptions, type FakeComfyUI } from '../../helpers/fake-comfyui/fake-comfyui.js';
import { backendFor, images, recorder, settlesWithin, spec } from './fixtures.js';

const BOUND_MS = 5_000;

/**
 * What the real ComfyUI servers (v0.1.0, a 2023 commit, 0.3.6x) showed that a lenient test
 * server hides; the fake behaves like each version (FakeVersion).
 */
describe('ComfyUI backend against the behaviour of real ComfyUI versions', () => {
  let fake: FakeComfyUI | undefined;
  let backend: Backend | undefined;
  const start = async (opts: FakeComfyOptions, backendOverrides: Parameters<typeof backendFor>[1] = {}) => {
    fake = await startFakeComfyUI(opts);
    backend = backendFor(fake.url, backendOverrides);
    return { fake, backend };
  };
  afterEach(async () => {
    await backend?.close?.();
    await fake?.close();
    [backend, fake] = [undefined, undefined];
  });

  /** Another client's long prompt, running on the shared ComfyUI before our job arrives. */
  async function othersPrompt(server: FakeComfyUI, steps = 150): Promise<string> {
    const graph = structuredClone(txt2img);
    graph['3'].inputs.steps = steps;
    const res = await fetch(`${server.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: graph, client_id: 'someone-else', prompt_id: crypto.randomUUID() }) });
    const { prompt_id: id } = (await res.json()) as { prompt_id: string };
    await expect.poll(() => queue(server).then((q) => q.running)).toEqual([id]);
    return id;
  }
  const queue = async (server: FakeComfyUI) => {
    const body = (await (await fetch(`${server.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
    return { running: body.queue_running.map((item) => item[1]), pending: body.queue_pending.map((item) => item[1]) };
  };
  /** The history entry once the prompt has ended. */
  const ended = async (server: FakeComfyUI, id: string) => {
    let entry: HistoryEntry | undefined;
    await expect.poll(async () => (entry = ((await (await fetch(`${server.url}/history/${id}`)).json()) as Record<string, HistoryEntry>)[id]), { timeout: BOUND_MS }).toBeDefined();
    return entry!;
  };
  const untouched = async (server: FakeComfyUI, id: string) => {
    const entry = await ended(server, id);
    expect(entry.status?.messages?.map(([event]) => event)).not.toContain('execution_interrupted');
    expect(Object.keys(entry.outputs ?? {})).toEqual(['9']);
  };

  it('v0.1.0: a refused job sends no /interrupt, so another client\'s running prompt is not stopped', async () => {
    const { fake, backend } = await start({ version: 'v0.1.0', stepDelayMs: 5 }, { samplers: { Euler: { sampler_name: 'bogus', scheduler: 'normal' } } });
    const other = await othersPrompt(fake);
    const { error } = await settlesWithin(backend.generate(spec(), recorder().ctx), BOUND_MS);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'backend_rejected' });
    expect(fake.interrupts).toEqual([]);
    await untouched(fake, other);
  });

  it('v0.1.0: a node error ends our prompt; nothing is interrupted after it', async () => {
    const { fake, backend } = await start({ version: 'v0.1.0', stepDelayMs: 2 });
    fake.nodeError();
    const { error } = await settlesWithin(backend.generate(spec(), recorder().ctx), BOUND_MS);
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_failed' });
    expect(fake.interrupts).toEqual([]);
  });

  it('v0.1.0: canceling a job still pending behind another client\'s prompt deletes it from the queue and interrupts nothing', async () => {
    const { fake, backend } = await start({ version: 'v0.1.0', stepDelayMs: 5 });
    const other = await othersPrompt(fake);
    const { ctx, controller } = recorder();
    const job = settlesWithin(backend.generate(spec(), ctx), BOUND_MS);
    await expect.poll(() => queue(fake).then((q) => q.pending.length)).toBe(1);
    const [mine] = (await queue(fake)).pending;
    controller.abort();
    const { error } = await job;
    expect(error).toBeInstanceOf(CanceledError);
    expect(fake.queueDeletes).toEqual([mine]);
    expect(fake.interrupts).toEqual([]);
    await untouched(fake, other);
    expect((await queue(fake)).pending).toEqual([]);
  });

  it('v0.1.0: canceling our running prompt interrupts it, by id, only once the queue shows it running', async () => {
    const { fake, backend } = await start({ version: 'v0.1.0', stepDelayMs: 5 });
    const { ctx, controller, progress } = recorder();
    const job = settlesWithin(backend.generate(spec({ steps: 150 }), ctx), BOUND_MS);
    await expect.poll(() => progress.length).toBeGreaterThan(1);
    controller.abort();
    expect((await job).error).toBeInstanceOf(CanceledError);
    expect(fake.interrupts).toEqual([{ prompt_id: fake.prompts[0]!.prompt_id }]);
    const getQueue = fake.requests.lastIndexOf('GET /queue');
    expect(getQueue).toBeGreaterThan(-1);
    expect(getQueue).toBeLessThan(fake.requests.lastIndexOf('POST /interrupt'));
  });

  it('2023: progress without a prompt id still reaches the job, which succeeds with its outputs', async () => {
    const { backend } = await start({ version: '2023', stepDelayMs: 2 });
    const { ctx, progress, previews } = recorder();
    const outputs = images(await backend.generate(spec({ steps: 8, numImages: 2 }), ctx));
    expect(outputs.map((o) => [o.index, o.seed])).toEqual([[0, 42], [1, 43]]);
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toEqual({ step: 16, totalSteps: 16 });
    expect(progress.some((p) => p.step > 0 && p.step < 8)).toBe(true); // from the events, not only finish()
    expect(previews.length).toBeGreaterThan(0);
  });

  it('2023: a long job whose only signs of life are events without progress is not killed as "did not start"', async () => {
    const fakeServer = await startFakeComfyUI({ version: '2023', stepDelayMs: 300 });
    fake = fakeServer;
    // The first progress comes after 300 ms; execution_start comes at once and ends the warm-up.
    const routed = createRoutedBackend([backendFor(fakeServer.url)], {
      perInstanceConcurrency: 1,
      healthIntervalMs: 60_000,
      breaker: { failureThreshold: 3, cooldownMs: 60_000 },
      timeouts: { warmupMs: 150, generationMs: 4_000 },
    });
    backend = routed;
    const { value, error } = await settlesWithin(routed.generate(spec({ steps: 2 }), recorder().ctx), BOUND_MS);
    expect(error).toBeUndefined();
    expect(value).toHaveLength(1);
  });

  it('current: previews come as type-4 frames, and full-size ones are cut to at most 256 px and 5 per second', async () => {
    const { backend } = await start({ version: 'current', stepDelayMs: 10, previewSide: 1024 });
    const { ctx, previews } = recorder();
    const started = Date.now();
    await backend.generate(spec({ steps: 40 }), ctx);
    const elapsed = Date.now() - started;
    expect(previews.length).toBeGreaterThan(0);
    expect(previews.length).toBeLessThanOrEqual(Math.floor(elapsed / 200) + 1);
    for (const preview of previews) {
      const meta = await sharp(preview.data).metadata();
      expect(Math.max(meta.width!, meta.height!)).toBeLessThanOrEqual(256);
      expect(`image/${meta.format}`).toBe(preview.mime);
    }
  });

  it('ComfyUI behind an authenticating proxy: the configured headers go with every request and the socket', async () => {
    const headers = { authorization: 'Bearer comfy-key' };
    const { fake, backend } = await start({ requireHeaders: headers, stepDelayMs: 1 }, { headers });
    expect(images(await backend.generate(spec(), recorder().ctx))).toHaveLength(1);
    expect(await backend.health!()).toBe(true);
    const bare = backendFor(fake.url);
    const { error } = await settlesWithin(bare.generate(spec(), recorder().ctx), BOUND_MS);
    await bare.close?.();
    expect(error).toBeDefined();
    expect(await bare.health!()).toBe(false);
  });
});

describe('checkStatus: the messages decide, whatever status_str says', () => {
  const entry = (status: HistoryEntry['status']): HistoryEntry => ({ outputs: {}, ...(status ? { status } : {}) });

  it('v0.1.0 writes "success" for an interrupted prompt: an interruption, retryable', () => {
    const lying = entry({ status_str: 'success', completed: true, messages: [['execution_start', {}], ['execution_interrupted', { node_id: '3' }]] });
    expect(() => checkStatus('p', lying)).toThrow(RetryableError);
  });

  it('v0.1.0 writes "success" for a failed prompt: the node error, unrecoverable', () => {
    const lying = entry({ status_str: 'success', completed: true, messages: [['execution_error', { node_id: '3', node_type: 'KSampler', exception_type: 'RuntimeError', exception_message: 'boom' }]] });
    expect(() => checkStatus('p', lying)).toThrow(/node 3 \(KSampler\): RuntimeError: boom/);
  });

  it('a 2023 entry has no status at all and passes on to its outputs', () => {
    expect(checkStatus('p', entry(undefined))).toEqual({ outputs: {} });
  });

  it('an error status without messages is still a failure', () => {
    expect(() => checkStatus('p', entry({ status_str: 'error', messages: [] }))).toThrow(UnrecoverableError);
  });
});
