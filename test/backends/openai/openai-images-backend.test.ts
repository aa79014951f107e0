import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAIImagesBackend, type OpenAIImagesBackendOptions } from '../../../src/backends/openai/openai-images-backend.js';
import { chooseUpstreamSize } from '../../../src/backends/openai/openai-model-defaults.js';
import { startFakeOpenAIImages, type FakeOpenAIImages } from '../../helpers/fake-openai-images.js';
import { makeSpec, runBackend } from '../../helpers/backend-spec.js';
import { colourFor, colourPng, readColourImage } from '../../helpers/seed-png.js';

const KEY = 'sk-test-123';
let fake: FakeOpenAIImages;
beforeEach(async () => {
  fake = await startFakeOpenAIImages({ apiKey: KEY });
});
afterEach(async () => fake.close());

const backend = (overrides: Partial<OpenAIImagesBackendOptions> = {}) =>
  createOpenAIImagesBackend({ url: fake.url, apiKey: KEY, model: 'gpt-image-2', timeouts: { connectMs: 1000, generationMs: 5000 }, ...overrides });
const imageRequests = () => fake.requests.filter((r) => r.path.startsWith('/v1/images/'));

describe('openai backend: capabilities', () => {
  it('declares kind openai, no previews, and samplers it accepts but ignores', () => {
    const { kind, capabilities } = backend();
    expect(kind).toBe('openai');
    expect(capabilities).toMatchObject({ modes: ['t2i', 'i2i'], samplers: ['default', 'Euler'], cancel: true, preview: false, maxBatch: 8 });
  });

  it('knows dall-e-3 has no edits endpoint', () => {
    expect(backend({ model: 'dall-e-3' }).capabilities.modes).toEqual(['t2i']);
  });

  it('picks the allowed size closest in aspect ratio, then area', () => {
    const sizes = ['1024x1024', '1536x1024', '1024x1536'];
    expect(chooseUpstreamSize({ width: 1024, height: 576 }, sizes)).toEqual({ width: 1536, height: 1024 });
    expect(chooseUpstreamSize({ width: 512, height: 512 }, sizes)).toEqual({ width: 1024, height: 1024 });
    expect(chooseUpstreamSize({ width: 640, height: 960 }, sizes)).toEqual({ width: 1024, height: 1536 });
    expect(chooseUpstreamSize({ width: 640, height: 960 }, undefined)).toEqual({ width: 640, height: 960 });
  });
});

describe('openai backend: text-to-image', () => {
  it('posts {model, prompt, n, size} with the Bearer key, and no response_format to a GPT image model', async () => {
    const { images, progress } = await runBackend(backend(), makeSpec({ numImages: 2 }));
    const [request] = imageRequests();
    expect(request?.path).toBe('/v1/images/generations');
    expect(request?.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.fields).toEqual({ model: 'gpt-image-2', prompt: 'a lighthouse at dusk', n: 2, size: '512x384' });
    expect(images.map((i) => [i.index, i.seed, i.width, i.height])).toEqual([[0, 1000, 512, 384], [1, 1001, 512, 384]]);
    for (const image of images) expect(await readColourImage(image.data)).toMatchObject({ format: 'png', width: 512, height: 384 });
    expect(progress).toEqual([{ step: 0, totalSteps: 1 }, { step: 1, totalSteps: 1 }]);
  });

  it('asks an OpenAI-compatible model for b64_json', async () => {
    await runBackend(backend({ model: 'flux-schnell' }), makeSpec());
    expect(imageRequests()[0]?.fields.response_format).toBe('b64_json');
  });

  it('renders a fixed-size model at its closest size and center-crops to the job size', async () => {
    const { images } = await runBackend(backend({ model: 'gpt-image-1' }), makeSpec({ width: 1024, height: 576 }));
    expect(imageRequests()[0]?.fields.size).toBe('1536x1024');
    expect(await readColourImage(images[0]!.data)).toMatchObject({ width: 1024, height: 576, colour: colourFor(1) });
  });

  it('splits a batch into requests of the model’s n (dall-e-3: one each), with progress per request', async () => {
    const { images, progress } = await runBackend(backend({ model: 'dall-e-3' }), makeSpec({ width: 1024, height: 1024, numImages: 3 }));
    expect(imageRequests().map((r) => [r.fields.n, r.fields.response_format])).toEqual([[1, 'b64_json'], [1, 'b64_json'], [1, 'b64_json']]);
    expect(images.map((i) => i.seed)).toEqual([1000, 1001, 1002]);
    expect(progress.map((p) => `${p.step}/${p.totalSteps}`)).toEqual(['0/3', '1/3', '2/3', '3/3']);
  });

  it('downloads url items, without sending the API key to the link', async () => {
    const { images } = await runBackend(backend({ model: 'dall-e-2', responseFormat: 'omit' }), makeSpec({ width: 256, height: 256, numImages: 2 }));
    const downloads = fake.requests.filter((r) => r.path.startsWith('/files/'));
    expect(downloads).toHaveLength(2);
    expect(downloads.every((r) => r.authorization === undefined)).toBe(true);
    expect(await Promise.all(images.map(async (i) => (await readColourImage(i.data)).colour))).toEqual([colourFor(1), colourFor(2)]);
  });
});

describe('openai backend: image-to-image', () => {
  it('posts the center-cropped reference as a multipart PNG file to /images/edits', async () => {
    const reference = await colourPng(0x2040a0, 900, 600);
    const { images } = await runBackend(backend({ model: 'gpt-image-1' }), makeSpec({ mode: 'i2i', width: 1024, height: 1024, denoiseStrength: 0.6 }), { reference });
    const request = imageRequests()[0]!;
    expect(request.path).toBe('/v1/images/edits');
    expect(request.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(request.fields).toEqual({ prompt: 'a lighthouse at dusk', model: 'gpt-image-1', n: '1', size: '1024x1024' });
    expect(request.files.map((f) => [f.field, f.filename, f.type])).toEqual([['image', 'reference.png', 'image/png']]);
    expect(await readColourImage(request.files[0]!.bytes)).toMatchObject({ format: 'png', width: 1024, height: 1024, colour: [0xa0, 0x40, 0x20] });
    expect((await readColourImage(images[0]!.data)).colour).toEqual([0xa0, 0x40, 0x20]);
  });

  it('refuses i2i on a model without edits, before calling the upstream', async () => {
    const run = runBackend(backend({ model: 'dall-e-3' }), makeSpec({ mode: 'i2i', width: 1024, height: 1024 }), { reference: await colourPng(1, 64, 64) });
    await expect(run).rejects.toMatchObject({ name: 'UnrecoverableError', code: 'capability_unsupported' });
    expect(imageRequests()).toHaveLength(0);
  });
});

describe('openai backend: health', () => {
  it('is healthy when /models answers; not with a rejected key or no server', async () => {
    expect(await backend().health!()).toBe(true);
    expect(await backend({ apiKey: 'sk-wrong' }).health!()).toBe(false);
    const url = fake.url;
    await fake.close();
    fake = await startFakeOpenAIImages();
    expect(await createOpenAIImagesBackend({ url, model: 'gpt-image-1', timeouts: { connectMs: 300, generationMs: 1000 } }).health!()).toBe(false);
  });
});
