import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient, type ApiResponse } from '../../../helpers/api.js';
import { defaultModels, structuredPng, writeConfigFile } from '../../../helpers/server-extras.js';
import { makeTempDir } from '../../../helpers/temp-dir.js';
import { startInjectServer, type InjectServer } from '../../../helpers/test-server.js';

const MAX_UPLOAD_BYTES = 64 * 1024;

/** Asserts OpenAI's error shape, exactly, and returns its `error`. */
function openaiError(res: ApiResponse, status: number): { message: string; type: string; param: string | null; code: string | null } {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(Object.keys(res.body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  return res.body.error;
}

function form(parts: Record<string, string | Buffer | Buffer[]>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item === 'string') data.append(name, item);
      else data.append(name, new Blob([new Uint8Array(item)], { type: 'image/png' }), `${name}.png`);
    }
  }
  return data;
}

describe('/v1 errors in OpenAI shape', () => {
  let t: InjectServer;
  let api: ApiClient;
  let anonymous: ApiClient;
  let removeDir: () => Promise<void>;
  let png: Buffer;

  beforeAll(async () => {
    const dir = await makeTempDir('atelier-openai-errors-');
    removeDir = dir.remove;
    const config = { aliases: { 'dall-e-3': 'preview', 'sora-video': 'preview-t2v' }, models: defaultModels(), uploads: { maxBytes: MAX_UPLOAD_BYTES } };
    t = await startInjectServer({ ATELIER_CONFIG: await writeConfigFile(dir.dir, config), RUNNER_CONCURRENCY: '0' });
    api = apiClient(t, (await t.addUser('errors-user')).token);
    anonymous = apiClient(t, null);
    png = await structuredPng(64, 64);
  });
  afterAll(async () => {
    await t?.close();
    await removeDir?.();
  });

  it('answers an unknown /v1 route, or a known one with another method, with a 404, token or not', async () => {
    for (const [client, method, path] of [
      [anonymous, 'GET', '/v1/nope'],
      [api, 'GET', '/v1/nope?x=1'],
      [api, 'POST', '/v1/chat/completions'],
      [api, 'GET', '/v1/images/generations'],
      [api, 'DELETE', '/v1/models/preview'],
      [api, 'GET', '/v1'],
    ] as const) {
      const error = openaiError(await client.request(method, path), 404);
      expect(error).toEqual({ message: `No route ${method} ${path.split('?')[0]}`, type: 'invalid_request_error', param: null, code: 'not_found' });
    }
    // Outside /v1 the catalog's shape is unchanged.
    expect((await api.get('/api/nope')).body).toMatchObject({ code: 'not_found' });
  });

  it('answers what the router refuses before any route (a bad percent-encoding, an over-long id) in OpenAI shape under /v1 only', async () => {
    expect(openaiError(await api.get('/v1/models/%c0%ae%c0%ae'), 400)).toMatchObject({ code: 'invalid_path', type: 'invalid_request_error' });
    expect(openaiError(await api.get(`/v1/models/${'m'.repeat(150)}`), 414)).toMatchObject({ code: 'path_too_long' });
    expect((await api.get('/api/status/%c0%ae%c0%ae')).body).toMatchObject({ code: 'invalid_path' });
  });

  it('answers a missing or bad token with a 401 authentication_error on every route', async () => {
    for (const [method, path] of [['GET', '/v1/models'], ['GET', '/v1/models/preview'], ['POST', '/v1/images/generations'], ['POST', '/v1/images/edits']] as const) {
      expect(openaiError(await anonymous.request(method, path), 401)).toMatchObject({ type: 'authentication_error', code: 'unauthorized', param: null });
    }
    const bad = apiClient(t, 'not-a-token');
    expect(openaiError(await bad.get('/v1/models'), 401).message).toBe('The API token is not valid');
  });

  it('answers body errors on generations: invalid JSON 400, an unsupported content type 415, too large 413', async () => {
    expect(openaiError(await api.post('/v1/images/generations', '{"prompt":'), 400)).toMatchObject({ code: 'invalid_body', type: 'invalid_request_error' });
    expect(openaiError(await api.post('/v1/images/generations', '<prompt/>', { 'content-type': 'application/xml' }), 415).code).toBe('unsupported_media_type');
    const big = JSON.stringify({ prompt: 'x'.repeat(1_100_000) });
    expect(openaiError(await api.post('/v1/images/generations', big), 413).code).toBe('body_too_large');
  });

  it('answers an unknown model with the models and aliases, and never takes an Object property for an alias', async () => {
    for (const model of ['dall-e-2', 'constructor', '__proto__', 'toString']) {
      const error = openaiError(await api.post('/v1/images/generations', { prompt: 'x', model }), 422);
      expect(error).toMatchObject({ code: 'unknown_model', param: 'model' });
      expect(error.message).toBe(`Unknown model '${model}'. Available models: preview, preview-t2v, preview-i2v, preview-ti2v; aliases: dall-e-3, sora-video`);
    }
  });

  describe('POST /v1/images/edits', () => {
    it('takes only multipart/form-data (415)', async () => {
      expect(openaiError(await api.post('/v1/images/edits', { prompt: 'x', image: 'abc' }), 415).code).toBe('unsupported_media_type');
    });

    it('refuses a mask with a 400 mask_unsupported, before looking at the image', async () => {
      const error = openaiError(await api.post('/v1/images/edits', form({ image: Buffer.from('not an image'), mask: png, prompt: 'a hat' })), 400);
      expect(error).toEqual({
        message: 'Masks (inpainting) are not supported: no backend of this server can inpaint. Send the image without a mask to edit all of it.',
        type: 'invalid_request_error',
        param: 'mask',
        code: 'mask_unsupported',
      });
    });

    it('names the field at fault: missing image or prompt, unknown, repeated or misplaced fields', async () => {
      const cases: [Record<string, string | Buffer | Buffer[]>, string, string, string][] = [
        [{ prompt: 'x' }, 'image', 'invalid_parameter', 'Expected a value for image but received nothing'],
        [{ image: png }, 'prompt', 'invalid_parameter', 'Expected a value for prompt but received nothing'],
        [{ image: png, prompt: '' }, 'prompt', 'invalid_parameter', "Expected string of length 1–10000 for prompt but received ''"],
        [{ image: png, prompt: 'x', strength: '0.5' }, 'strength', 'unknown_field', "Unknown field 'strength'"],
        [{ image: png, prompt: 'x', n: 'two' }, 'n', 'invalid_parameter', "Expected integer 1–8 for n but received 'two'"],
        [{ image: png, prompt: 'x', size: '1024' }, 'size', 'invalid_parameter', "Expected a string matching ^(auto|\\d{2,4}x\\d{2,4})$ for size but received '1024'"],
        [{ image: png, prompt: 'x', response_format: 'webp' }, 'response_format', 'invalid_parameter', 'Expected one of "url", "b64_json" for response_format but received \'webp\''],
        [{ image: png, prompt: 'x', stream: 'true' }, 'stream', 'invalid_parameter', 'Expected false for stream but received true'],
        [{ image: [png, png], prompt: 'x' }, 'image', 'invalid_parameter', 'Expected one file for image but received several'],
        [{ 'image[]': [png, png], prompt: 'x' }, 'image', 'invalid_parameter', 'Expected one file for image but received several'],
        [{ image: 'https://example.com/a.png', prompt: 'x' }, 'image', 'invalid_parameter', 'Expected a file for image but received a text field'],
        [{ image: png, prompt: ['x', 'y'] as unknown as string }, 'prompt', 'invalid_parameter', 'Expected one value for prompt but received several'],
        [{ image: png, photo: png, prompt: 'x' }, 'photo', 'unknown_field', "Unknown file field 'photo': expected image or mask"],
      ];
      for (const [parts, param, code, message] of cases) {
        const error = openaiError(await api.post('/v1/images/edits', form(parts)), code === 'unknown_field' || code === 'invalid_parameter' ? 422 : 400);
        expect(error, JSON.stringify(Object.keys(parts))).toEqual({ message, type: 'invalid_request_error', param, code });
      }
    });

    it('checks the model before the image: unknown, or without image-to-image (even through an alias)', async () => {
      const notAnImage = Buffer.from('not an image');
      expect(openaiError(await api.post('/v1/images/edits', form({ image: notAnImage, prompt: 'x', model: 'gpt-image-1' })), 422)).toMatchObject({ code: 'unknown_model', param: 'model' });
      const video = openaiError(await api.post('/v1/images/edits', form({ image: notAnImage, prompt: 'x', model: 'sora-video' })), 422);
      expect(video).toEqual({ message: "Model 'preview-t2v' does not support image-to-image (it supports t2v)", type: 'invalid_request_error', param: 'model', code: 'capability_unsupported' });
    });

    it('checks the image as an upload is checked: content, then size', async () => {
      expect(openaiError(await api.post('/v1/images/edits', form({ image: Buffer.from('GIF89a not really'), prompt: 'x' })), 422).code).toBe('invalid_image');
      const huge = openaiError(await api.post('/v1/images/edits', form({ image: Buffer.alloc(MAX_UPLOAD_BYTES + 1), prompt: 'x' })), 413);
      expect(huge).toMatchObject({ code: 'image_too_large', param: 'image' });
    });

    it('answers a malformed multipart body with a 400, never a 500', async () => {
      const body = '--abc\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx';
      for (const contentType of ['multipart/form-data; boundary=abc', 'multipart/form-data; boundary=never-there', 'multipart/form-data']) {
        const res = await api.request('POST', '/v1/images/edits', body, { 'content-type': contentType });
        const error = openaiError(res, 400);
        expect(error).toMatchObject({ code: 'invalid_body', type: 'invalid_request_error' });
        expect(error.message).toMatch(/^The multipart\/form-data body is malformed: (Unexpected end of multipart data|Boundary not found)$/);
      }
    });
  });
});
