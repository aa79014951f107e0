import { afterEach, describe, expect, it } from 'vitest';
import { createA1111Backend, type A1111BackendOptions } from '../../../src/backends/a1111/a1111-backend.js';
import { createA1111Catalog } from '../../../src/backends/a1111/a1111-catalog.js';
import { a1111HttpError } from '../../../src/backends/a1111/a1111-errors.js';
import { preflight } from '../../../src/backends/a1111/a1111-preflight.js';
import { httpRequest } from '../../../src/backends/a1111/http-request.js';
import type { ControlNetUnit } from '../../../src/jobs/conditioning.js';
import type { JobSpec } from '../../../src/jobs/job-spec.js';
import { startFakeA1111, type FakeA1111, type FakeA1111Options } from '../../helpers/fake-a1111.js';
import { makeSpec, runBackend } from '../../helpers/backend-spec.js';
import { colourPng } from '../../helpers/seed-png.js';

/**
 * A1111 does not refuse a checkpoint, sampler or ControlNet unit it lacks: it renders
 * something else and answers 200 (or, for a sampler on 1.8 only, 404). Each group first shows
 * the fake doing what the real server does with the bad value (so the refusal is needed), then
 * that the backend refuses it before any txt2img reaches the server.
 */
let fake: FakeA1111;
const start = async (options: FakeA1111Options = {}) => {
  fake = await startFakeA1111({ stepDelayMs: 1, ...options });
};
afterEach(async () => fake?.close());

const backend = (overrides: Partial<A1111BackendOptions> = {}) =>
  createA1111Backend({ url: fake.url, timeouts: { connectMs: 1000, generationMs: 10_000 }, progressPollMs: 5, ...overrides });

/** A request from some other client, straight to the server. */
const post = async (body: Record<string, unknown>) => {
  const res = await fetch(`${fake.url}/sdapi/v1/txt2img`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', steps: 2, width: 64, height: 64, ...body }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

const refusal = (promise: Promise<unknown>) => promise.then(() => new Error('expected a refusal'), (e: unknown) => e);

describe('a1111 backend: the checkpoint', () => {
  it('the server ignores an unknown override and renders with its current model (why it must be checked)', async () => {
    await start();
    const { status } = await post({ override_settings: { sd_model_checkpoint: 'no-such-model.safetensors' } });
    expect(status).toBe(200);
    expect(fake.tasks()[0]?.checkpoint).toBe('v1-5-pruned-emaonly.safetensors [6ce0161689]');
  });

  it('refuses a checkpoint the server lacks before any txt2img, naming it and listing what it has', async () => {
    await start();
    const error = await refusal(runBackend(backend({ checkpoint: 'dreamshaper_8.safetensors' }), makeSpec()));
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_rejected' });
    expect((error as Error).message).toMatch(/no checkpoint 'dreamshaper_8\.safetensors'.*v1-5-pruned-emaonly\.safetensors \[6ce0161689\], sd_xl_base_1\.0\.safetensors \[31e35c80fc\]/);
    expect(fake.generations()).toHaveLength(0);
  });

  it.each([
    ['the title', 'sd_xl_base_1.0.safetensors [31e35c80fc]'],
    ['the model name', 'sd_xl_base_1.0'],
    ['the title without its [hash]', 'sd_xl_base_1.0.safetensors'],
    ['the short hash', '31e35c80fc'],
  ])('accepts %s, which A1111 also resolves, and that model renders', async (_, name) => {
    await start();
    await runBackend(backend({ checkpoint: name }), makeSpec());
    expect(fake.tasks()[0]?.checkpoint).toBe('sd_xl_base_1.0.safetensors [31e35c80fc]');
  });

  it('reads /sd-models once a minute, and once more for a name it lacks, so a model just added is found', async () => {
    await start();
    const known = backend({ checkpoint: 'sd_xl_base_1.0.safetensors' });
    await runBackend(known, makeSpec());
    await runBackend(known, makeSpec());
    expect(fake.count('/sdapi/v1/sd-models')).toBe(1);

    const later = backend({ checkpoint: 'SDXL/juggernaut_x.safetensors' });
    await expect(refusal(runBackend(later, makeSpec()))).resolves.toMatchObject({ code: 'backend_rejected' });
    expect(fake.count('/sdapi/v1/sd-models')).toBe(3); // read, then read again before refusing
    fake.addCheckpoint({ name: 'SDXL/juggernaut_x.safetensors', sha256: null, hash8: '0123abcd' });
    await runBackend(later, makeSpec());
    expect(fake.tasks().at(-1)?.checkpoint).toBe('SDXL/juggernaut_x.safetensors');
    expect(fake.count('/sdapi/v1/sd-models')).toBe(4);
  });

  it('checks whatever checkpoint the outgoing body carries, not only the configured one', async () => {
    await start();
    const catalog = createA1111Catalog((path) => httpRequest({ method: 'GET', url: new URL(path, `${fake.url}/`), connectTimeoutMs: 1000, timeoutMs: 2000 }), 'the fake');
    const signal = new AbortController().signal;
    await expect(preflight({ sampler_name: 'Euler', override_settings: { sd_model_checkpoint: 'v1-5-pruned-emaonly' } }, catalog, 'the fake', signal)).resolves.toBeUndefined();
    await expect(preflight({ sampler_name: 'Euler', override_settings: { sd_model_checkpoint: 'sdxl_lightning.safetensors' } }, catalog, 'the fake', signal)).rejects.toMatchObject({
      code: 'backend_rejected',
      message: expect.stringContaining("no checkpoint 'sdxl_lightning.safetensors'"),
    });
  });
});

describe('a1111 backend: the sampler', () => {
  it('1.9+ runs its first sampler for an unknown name, and 1.8 answers 404 (why it must be checked)', async () => {
    await start({ version: '1.10' });
    expect((await post({ sampler_name: 'Euler Turbo Max' })).status).toBe(200);
    expect(fake.tasks()[0]?.sampler).toBe('DPM++ 2M');
    await fake.close();
    await start({ version: '1.8' });
    expect(await post({ sampler_name: 'Euler Turbo Max' })).toEqual({ status: 404, body: { error: 'HTTPException', detail: 'Sampler not found', body: '', errors: '404: Sampler not found' } });
  });

  it.each(['1.8', '1.10'] as const)('refuses a sampler the server lacks before any txt2img (A1111 %s)', async (version) => {
    await start({ version });
    const error = await refusal(runBackend(backend({ samplers: ['Euler', 'Euler Turbo Max'] }), makeSpec({ sampler: 'Euler Turbo Max' })));
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_rejected', message: expect.stringContaining("no sampler 'Euler Turbo Max'") });
    expect((error as Error).message).toContain(version === '1.10' ? "would silently use 'DPM++ 2M'" : 'it has DPM++ 2M Karras, DPM++ SDE Karras');
    expect(fake.generations()).toHaveLength(0);
  });

  it.each(['1.8', '1.10'] as const)('takes "DPM++ 2M Karras" on A1111 %s (a sampler on 1.8, sampler + schedule on 1.9+), and it runs as such', async (version) => {
    await start({ version });
    await runBackend(backend(), makeSpec({ sampler: 'DPM++ 2M Karras' }));
    expect(fake.tasks()[0]?.sampler).toBe(version === '1.8' ? 'DPM++ 2M Karras' : 'DPM++ 2M');
  });

  it('refuses an alias, which the API does not resolve, naming the sampler to use', async () => {
    await start();
    const error = await refusal(runBackend(backend({ samplers: ['k_euler'] }), makeSpec({ sampler: 'k_euler' })));
    expect(error).toMatchObject({ code: 'backend_rejected', message: expect.stringContaining("'k_euler' is an alias of 'Euler'") });
    expect(fake.generations()).toHaveLength(0);
  });

  it("words 1.8's 404 for a sampler as a rejection, not as a missing API", () => {
    const body = Buffer.from(JSON.stringify({ error: 'HTTPException', detail: 'Sampler not found', body: '', errors: '404: Sampler not found' }));
    const error = a1111HttpError('AUTOMATIC1111 at http://gpu:7860', 404, body);
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_rejected', message: expect.stringContaining('no such sampler') });
    expect(error.message).not.toContain('--api');
    expect(a1111HttpError('x', 404, Buffer.from('{"detail":"Not Found"}'))).toMatchObject({ code: 'backend_failed', message: expect.stringContaining('--api') });
  });
});

describe('a1111 backend: ControlNet units', () => {
  const image: ControlNetUnit['image'] = { key: 'k', format: 'png', width: 64, height: 64, sha256: 'x', source: { uploadId: 'u' } };
  const withUnits = (types: ControlNetUnit['type'][]): JobSpec => makeSpec({ controlnet: types.map((type) => ({ type, image, weight: 1, start: 0, end: 1 })) });
  const run = async (b: ReturnType<typeof backend>, spec: JobSpec) => {
    const control = await colourPng(0x123456, 64, 64);
    return b.generate(spec, { signal: new AbortController().signal, onProgress: () => undefined, inputs: { controlnet: spec.controlnet!.map(() => control) } });
  };

  it('the extension skips a unit it cannot load and the job "succeeds" without ControlNet (why it must be checked)', async () => {
    await start();
    const unit = { enabled: true, module: 'canny', model: 'control_v11p_sd15_canny', weight: 1 };
    expect((await post({ alwayson_scripts: { controlnet: { args: [unit] } } })).status).toBe(200);
    expect((await post({ alwayson_scripts: { controlnet: { args: [{ ...unit, model: 'control_sdxl_canny' }] } } })).status).toBe(200);
    expect((await post({ alwayson_scripts: { controlnet: { args: [{ ...unit, module: 'canny_fancy' }] } } })).status).toBe(200);
    expect(fake.tasks().map((t) => t.controlnet)).toEqual(['applied', 'skipped', 'skipped']);
  });

  it('sends units whose model and module the extension has (model without its [hash], module by label)', async () => {
    await start();
    await run(backend(), withUnits(['canny', 'depth', 'lineart']));
    expect(fake.tasks()[0]?.controlnet).toBe('applied');
  });

  it('refuses an unknown ControlNet model before any txt2img, naming it', async () => {
    await start();
    const error = await refusal(run(backend({ controlnetModels: { canny: 'control_v11p_sd15_canny', depth: 'control_sdxl_depth_mid' } }), withUnits(['canny', 'depth'])));
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_rejected', message: expect.stringContaining("unit 2: it has no ControlNet model 'control_sdxl_depth_mid'") });
    expect(fake.generations()).toHaveLength(0);
  });

  it('refuses an unknown preprocessor module before any txt2img, naming it', async () => {
    // An extension older than ControlNet 1.1 has no lineart preprocessor.
    await start({ controlnetModules: [{ name: 'none', label: 'none' }, { name: 'canny', label: 'canny' }] });
    const error = await refusal(run(backend(), withUnits(['canny', 'lineart'])));
    expect(error).toMatchObject({ name: 'UnrecoverableError', code: 'backend_rejected', message: expect.stringContaining("unit 2: it has no ControlNet preprocessor 'lineart_realistic'") });
    expect(fake.generations()).toHaveLength(0);
  });

  it('refuses on Forge a model named without its [hash], which Forge cannot load, suggesting the listed name', async () => {
    await start({ controlnet: 'forge' });
    const error = await refusal(run(backend(), withUnits(['canny'])));
    expect(error).toMatchObject({ code: 'backend_rejected', message: expect.stringContaining("configure it as 'control_v11p_sd15_canny [d14c016b]'") });
    expect(fake.generations()).toHaveLength(0);
    await run(backend({ controlnetModels: { canny: 'control_v11p_sd15_canny [d14c016b]' } }), withUnits(['canny']));
    expect(fake.tasks()[0]?.controlnet).toBe('applied');
  });

  it('refuses ControlNet units on a server without the extension', async () => {
    await start({ controlnet: 'none' });
    const error = await refusal(run(backend(), withUnits(['canny'])));
    expect(error).toMatchObject({ code: 'backend_rejected', message: expect.stringContaining('no ControlNet extension') });
    expect(fake.generations()).toHaveLength(0);
  });
});
