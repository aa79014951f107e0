import OpenAI, { toFile } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAIImages, type FakeOpenAIImages } from '../../helpers/fake-openai-images.js';
import { colourPng, readColourImage } from '../../helpers/seed-png.js';

// The fake must speak the protocol the official client speaks, or the adapter tests prove
// nothing about a real upstream.
describe('fake OpenAI images server, driven by the official openai client', () => {
  let fake: FakeOpenAIImages;
  let client: OpenAI;
  beforeEach(async () => {
    fake = await startFakeOpenAIImages({ apiKey: 'sk-test' });
    client = new OpenAI({ apiKey: 'sk-test', baseURL: fake.url, maxRetries: 0 });
  });
  afterEach(async () => fake.close());

  it('answers images.generate with b64 PNGs', async () => {
    const result = await client.images.generate({ model: 'gpt-image-1', prompt: 'a fox', n: 2, size: '1024x1536' });
    expect(result.data).toHaveLength(2);
    const image = await readColourImage(Buffer.from(result.data![0]!.b64_json!, 'base64'));
    expect(image).toMatchObject({ format: 'png', width: 1024, height: 1536 });
  });

  it('answers images.edit with a multipart upload', async () => {
    const file = await toFile(await colourPng(0x123456, 256, 256), 'ref.png', { type: 'image/png' });
    const result = await client.images.edit({ model: 'dall-e-2', image: file, prompt: 'make it blue', size: '256x256', response_format: 'b64_json' });
    expect((await readColourImage(Buffer.from(result.data![0]!.b64_json!, 'base64'))).colour).toEqual([0x56, 0x34, 0x12]);
    expect(fake.requests[0]?.files[0]).toMatchObject({ field: 'image', filename: 'ref.png' });
  });

  it('errors in the shape the SDK maps to its classes', async () => {
    const bad = new OpenAI({ apiKey: 'sk-wrong', baseURL: fake.url, maxRetries: 0 });
    await expect(bad.images.generate({ model: 'gpt-image-1', prompt: 'x' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const error = await client.images.generate({ model: 'gpt-image-1', prompt: 'x', response_format: 'b64_json' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ param: 'response_format', code: 'unknown_parameter' });
  });
});
