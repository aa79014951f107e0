import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createA1111Backend, type A1111BackendOptions } from '../../../src/backends/a1111/a1111-backend.js';
import { UnrecoverableError } from '../../../src/errors/signals.js';
import { readPngTextChunks } from '../../../src/media/image/png-text-chunk.js';
import { parseA1111Parameters } from '../../../src/media/image/a1111-parameters.js';
import { startFakeA1111, type FakeA1111, type FakeA1111Options } from '../../helpers/fake-a1111.js';
import { makeSpec, runBackend } from '../../helpers/backend-spec.js';
import { colourFor, colourPng, readColourImage } from '../../helpers/seed-png.js';

let fake: FakeA1111;
const start = async (fakeOptions: FakeA1111Options = {}) => {
  fake = await startFakeA1111(fakeOptions);
};
const backend = (overrides: Partial<A1111BackendOptions> = {}) =>
  createA1111Backend({ url: fake.url, timeouts: { connectMs: 1000, generationMs: 10_000 }, progressPollMs: 5, ...overrides });

afterEach(async () => fake?.close());

describe('a1111 backend: text-to-image', () => {
  beforeEach(() => start({ stepDelayMs: 15 }));

  it('declares kind a1111 with t2i and i2i, cancel and previews', () => {
    const { kind, capabilities } = backend({ samplers: ['Euler', 'DDIM'], maxBatch: 4 });
    expect(kind).toBe('a1111');
    expect(capabilities).toMatchObject({ modes: ['t2i', 'i2i'], samplers: ['Euler', 'DDIM'], maxBatch: 4, cancel: true, preview: true });
  });

  it('sends every parameter to /sdapi/v1/txt2img exactly as PROTOCOLS §2 names it', async () => {
    await runBackend(backend({ checkpoint: 'sd_xl_base_1.0.safetensors' }), makeSpec({ numImages: 2 }));
    const [request] = fake.generations();
    expect(request?.path).toBe('/sdapi/v1/txt2img');
    expect(request?.body).toEqual({
      prompt: 'a lighthouse at dusk',
      negative_prompt: 'blurry',
      seed: 1000,
      sampler_name: 'Euler',
      steps: 6,
      cfg_scale: 7,
      width: 512,
      height: 384,
      batch_size: 2,
      n_iter: 1,
      enable_hr: false,
      override_settings: { sd_model_checkpoint: 'sd_xl_base_1.0.safetensors' },
      send_images: true,
      save_images: false,
      // Our own task id, so a cancel can tell our task from another client's (a1111-task-stop.ts).
      force_task_id: expect.stringMatching(/^task\(atelier-[0-9a-f-]{36}\)$/),
    });
    expect(fake.tasks()[0]?.checkpoint).toBe('sd_xl_base_1.0.safetensors [31e35c80fc]');
  });

  it('leaves override_settings out when no checkpoint is configured', async () => {
    await runBackend(backend(), makeSpec({ negativePrompt: undefined }));
    expect(fake.generations()[0]?.body).not.toHaveProperty('override_settings');
    expect(fake.generations()[0]?.body?.negative_prompt).toBe('');
  });

  it('returns PNGs of the requested size with the seeds A1111 reports', async () => {
    const { images } = await runBackend(backend(), makeSpec({ numImages: 3, seed: 4_294_967_000 }));
    expect(images.map((i) => [i.index, i.seed])).toEqual([[0, 4_294_967_000], [1, 4_294_967_001], [2, 4_294_967_002]]);
    for (const image of images) {
      const decoded = await readColourImage(image.data);
      expect(decoded).toMatchObject({ format: 'png', width: 512, height: 384 });
      expect(decoded.colour).toEqual(colourFor(image.seed));
      expect([image.width, image.height]).toEqual([512, 384]);
      // A1111's own PNG info survives the adapter untouched.
      expect(parseA1111Parameters(readPngTextChunks(image.data).parameters!).settings.Seed).toBe(String(image.seed));
    }
  });

  it('skips a leading grid (index_of_first_image)', async () => {
    await fake.close();
    await start({ returnGrid: true });
    const { images } = await runBackend(backend(), makeSpec({ numImages: 2 }));
    expect(images).toHaveLength(2);
    expect(await Promise.all(images.map(async (i) => (await readColourImage(i.data)).colour))).toEqual([colourFor(1000), colourFor(1001)]);
  });

  it('reports monotonic progress over steps, ending at totalSteps, and live previews', async () => {
    const { progress, previews } = await runBackend(backend(), makeSpec({ steps: 8 }));
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.every((p) => p.totalSteps === 8)).toBe(true);
    const steps = progress.map((p) => p.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.at(-1)).toBe(8);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews.every((p) => p.mime === 'image/png' && p.data.subarray(1, 4).toString() === 'PNG')).toBe(true);
    expect(fake.requests.some((r) => r.path === '/sdapi/v1/progress' && r.query.get('skip_current_image') === 'false')).toBe(true);
  });

  it('runs hires fix as a half-size first pass resized to the requested size, over two passes of progress', async () => {
    const { images, progress } = await runBackend(backend(), makeSpec({ hiresFix: true, width: 1024, height: 768, steps: 4 }));
    expect(fake.generations()[0]?.body).toMatchObject({ enable_hr: true, width: 512, height: 384, hr_resize_x: 1024, hr_resize_y: 768, hr_scale: 2 });
    expect([images[0]?.width, images[0]?.height]).toEqual([1024, 768]);
    expect(progress.at(-1)).toEqual({ step: 8, totalSteps: 8 });
    expect(progress.some((p) => p.step > 4 && p.step < 8)).toBe(true);
  });
});

describe('a1111 backend: image-to-image', () => {
  beforeEach(() => start());

  it('posts the reference, center-cropped and base64, to /sdapi/v1/img2img with the strength', async () => {
    const reference = await colourPng(0x336699, 800, 400);
    const spec = makeSpec({ mode: 'i2i', width: 256, height: 256, denoiseStrength: 0.4 });
    const { images } = await runBackend(backend(), spec, { reference });
    const request = fake.generations()[0]!;
    expect(request.path).toBe('/sdapi/v1/img2img');
    expect(request.body).toMatchObject({ denoising_strength: 0.4, resize_mode: 1, width: 256, height: 256, seed: 1000 });
    const init = request.body!.init_images as string[];
    expect(init).toHaveLength(1);
    const decoded = await readColourImage(Buffer.from(init[0]!, 'base64'));
    expect(decoded).toMatchObject({ format: 'png', width: 256, height: 256, colour: [0x99, 0x66, 0x33] });
    expect(images[0]?.seed).toBe(1000);
  });

  it('fails unrecoverably without a reference', async () => {
    await expect(runBackend(backend(), makeSpec({ mode: 'i2i', denoiseStrength: 0.5 }))).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'invalid_parameter' });
    expect(fake.generations()).toHaveLength(0);
  });
});

describe('a1111 backend: auth, capabilities and health', () => {
  beforeEach(() => start({ auth: { username: 'atelier', password: 's3cret' } }));

  it('sends HTTP Basic credentials on every call', async () => {
    await runBackend(backend({ auth: { username: 'atelier', password: 's3cret' } }), makeSpec());
    const expected = `Basic ${Buffer.from('atelier:s3cret').toString('base64')}`;
    expect(fake.requests.length).toBeGreaterThan(1);
    expect(fake.requests.every((r) => r.authorization === expected)).toBe(true);
  });

  it('fails unrecoverably, naming the auth, when the credentials are wrong', async () => {
    const error = await runBackend(backend({ auth: { username: 'atelier', password: 'nope' } }), makeSpec()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'backend_failed', message: expect.stringContaining('--api-auth') });
  });

  it('refuses a spec beyond its capabilities before calling the server', async () => {
    const b = backend({ auth: { username: 'atelier', password: 's3cret' }, maxBatch: 2 });
    await expect(runBackend(b, makeSpec({ numImages: 3 }))).rejects.toMatchObject({ code: 'capability_unsupported' });
    await expect(runBackend(b, makeSpec({ sampler: 'LMS' }))).rejects.toMatchObject({ code: 'capability_unsupported' });
    expect(fake.generations()).toHaveLength(0);
  });

  it('is healthy when /progress answers, unhealthy with bad credentials or no server', async () => {
    expect(await backend({ auth: { username: 'atelier', password: 's3cret' } }).health!()).toBe(true);
    expect(await backend({ auth: { username: 'atelier', password: 'nope' } }).health!()).toBe(false);
    const url = fake.url;
    await fake.close();
    expect(await createA1111Backend({ url, timeouts: { connectMs: 500, generationMs: 1000 } }).health!()).toBe(false);
  });

  it('decodes what it returns with sharp (sanity of the fake)', async () => {
    const { images } = await runBackend(backend({ auth: { username: 'atelier', password: 's3cret' } }), makeSpec());
    expect((await sharp(images[0]!.data).metadata()).format).toBe('png');
  });
});
