/**
 * The official `openai` npm client, unchanged, against Atelier over a real socket (it needs a
 * base URL, and fetches the media URLs it is given): models, generations through an alias,
 * edits, and typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { ssim } from '../../../../src/media/image/similarity.js';
import { structuredPng, writeConfigFile } from '../../../helpers/server-extras.js';
import { scenePng } from '../../../helpers/synthetic-images.js';
import { makeTempDir } from '../../../helpers/temp-dir.js';
import { startTestServer, type TestServer } from '../../../helpers/test-server.js';

const ALIASES = { 'dall-e-3': 'preview', 'gpt-image-1': 'preview' };

async function pngParameters(png: Buffer): Promise<string> {
  const chunk = (await sharp(png).metadata()).comments?.find((c) => c.keyword === 'parameters');
  if (!chunk) throw new Error('no parameters chunk');
  return chunk.text;
}

/** What `fn` threw, as the client's APIError (failing the test if it did not throw one). */
async function apiError(fn: () => Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OpenAI.APIError);
    return error as InstanceType<typeof OpenAI.APIError>;
  }
  throw new Error('expected the call to throw');
}

async function grey(png: Buffer, width: number, height: number): Promise<Uint8Array> {
  return sharp(png).resize(width, height).greyscale().raw().toBuffer();
}

describe('the official openai client against /v1', () => {
  let t: TestServer;
  let client: OpenAI;
  let removeDir: () => Promise<void>;
  let photo: Buffer;
  let other: Buffer;

  beforeAll(async () => {
    const dir = await makeTempDir('atelier-openai-');
    removeDir = dir.remove;
    t = await startTestServer({ ATELIER_CONFIG: await writeConfigFile(dir.dir, { aliases: ALIASES }) });
    client = new OpenAI({ apiKey: (await t.addUser('openai-app')).token, baseURL: `${t.url}/v1`, maxRetries: 0, timeout: 30_000 });
    photo = await structuredPng(256, 256);
    other = await scenePng(5, 256, 256);
  });
  afterAll(async () => {
    await t?.close();
    await removeDir?.();
  });

  it('lists the models and the aliases in OpenAI shape', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(Object.keys(model).sort()).toEqual(['created', 'id', 'object', 'owned_by']);
      expect(model).toMatchObject({ object: 'model', owned_by: 'atelier' });
      expect(Math.abs(model.created - Date.now() / 1000)).toBeLessThan(600);
      ids.push(model.id);
    }
    expect(ids).toEqual(['preview', 'preview-t2v', 'preview-i2v', 'preview-ti2v', 'dall-e-3', 'gpt-image-1']);
    const raw = await fetch(`${t.url}/v1/models`, { headers: { authorization: `Bearer ${client.apiKey}` } });
    expect(Object.keys((await raw.json()) as object)).toEqual(['object', 'data']);
  });

  it('retrieves a model or an alias, and answers NotFoundError for another name', async () => {
    expect(await client.models.retrieve('dall-e-3')).toMatchObject({ id: 'dall-e-3', object: 'model' });
    expect(await client.models.retrieve('preview')).toMatchObject({ id: 'preview', object: 'model' });
    const error = await apiError(() => client.models.retrieve('dall-e-2'));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.error).toEqual({ message: "The model 'dall-e-2' does not exist", type: 'invalid_request_error', param: 'model', code: 'not_found' });
  });

  it("generates with model 'dall-e-3', rendered by the model it is an alias of", async () => {
    const result = await client.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse at dusk', size: '256x256', response_format: 'b64_json' });
    expect(result.data).toHaveLength(1);
    const png = Buffer.from(result.data![0]!.b64_json!, 'base64');
    expect(await pngParameters(png)).toMatch(/Size: 256x256, Model: preview/);
  });

  it('edits an image: n base64 PNGs of the requested size, rendered from it as image-to-image', async () => {
    const edit = async (image: Buffer, extra: Record<string, unknown> = {}) =>
      client.images.edit({
        image: await toFile(image, 'photo.png', { type: 'image/png' }),
        prompt: 'the same scene in autumn',
        model: 'gpt-image-1',
        size: '256x256',
        response_format: 'b64_json',
        // Atelier's extras ride along as form fields.
        ...({ seed: 77, steps: 4, denoise_strength: 0.2, ...extra } as object),
      });
    const result = await edit(photo, { n: 2 });
    expect(result.data).toHaveLength(2);
    const pngs = result.data!.map((item) => Buffer.from(item.b64_json!, 'base64'));
    for (const png of pngs) expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 256, height: 256 });
    expect(result.data!.map((item) => (item as unknown as { seed: number }).seed)).toEqual([77, 78]);
    expect(result.data![0]!.revised_prompt).toBe('the same scene in autumn');
    expect(await pngParameters(pngs[0]!)).toMatch(/Denoising strength: 0.2/);
    // At low denoise the output is the input image, not another one given the same prompt and seed.
    const fromOther = Buffer.from((await edit(other)).data![0]!.b64_json!, 'base64');
    const [out, a, b] = await Promise.all([grey(pngs[0]!, 256, 256), grey(photo, 256, 256), grey(fromOther, 256, 256)]);
    expect(ssim(out, a, 256, 256)).toBeGreaterThan(0.9);
    expect(ssim(out, a, 256, 256)).toBeGreaterThan(ssim(out, b, 256, 256) + 0.15);
  });

  it("edits without size in the image's shape, answering a signed URL by default", async () => {
    const wide = await structuredPng(384, 192);
    const result = await client.images.edit({ image: await toFile(wide, 'wide.png', { type: 'image/png' }), prompt: 'a wide view', ...({ steps: 2 } as object) });
    const url = result.data![0]!.url!;
    expect(url).toMatch(new RegExp(`^${t.url}/media/.+signature=`));
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect(meta.width! / meta.height!).toBeCloseTo(2, 1);
  });

  it('refuses a mask with a BadRequestError: no backend here inpaints', async () => {
    const error = await apiError(async () =>
      client.images.edit({ image: await toFile(photo, 'photo.png', { type: 'image/png' }), mask: await toFile(photo, 'mask.png', { type: 'image/png' }), prompt: 'a hat', size: '256x256' }),
    );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({ type: 'invalid_request_error', param: 'mask', code: 'mask_unsupported' });
    expect(error.message).toMatch(/inpaint/);
  });

  it('raises a typed APIError with the status and message for a bad request', async () => {
    const error = await apiError(async () => client.images.edit({ image: await toFile(photo, 'photo.png', { type: 'image/png' }), prompt: 'x', n: 9 }));
    expect(error).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect(error.status).toBe(422);
    expect(error.message).toBe('422 Expected integer 1–8 for n but received 9');
    expect(error.error).toEqual({ message: 'Expected integer 1–8 for n but received 9', type: 'invalid_request_error', param: 'n', code: 'invalid_parameter' });

    const unknown = await apiError(() => client.images.generate({ model: 'dall-e-2', prompt: 'x' }));
    expect(unknown).toBeInstanceOf(OpenAI.UnprocessableEntityError);
    expect(unknown.message).toContain("Unknown model 'dall-e-2'. Available models: preview, preview-t2v, preview-i2v, preview-ti2v; aliases: dall-e-3, gpt-image-1");
  });

  it('answers a route Atelier does not have with a NotFoundError in OpenAI shape', async () => {
    const error = await apiError(async () => client.images.createVariation({ image: await toFile(photo, 'photo.png', { type: 'image/png' }) }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.error).toEqual({ message: 'No route POST /v1/images/variations', type: 'invalid_request_error', param: null, code: 'not_found' });
  });
});
