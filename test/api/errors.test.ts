import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCatalog } from '../../src/errors/catalog.js';
import { apiClient, type ApiClient, type ApiResponse } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/** Every error response must carry a catalog code, a message, its catalog status and no internals. */
function expectError(res: ApiResponse, status: number, code: string, field?: string): any {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ code, message: expect.any(String) });
  expect(res.body.message.length).toBeGreaterThan(0);
  expect(Object.keys(errorCatalog)).toContain(res.body.code);
  expect(errorCatalog[res.body.code as keyof typeof errorCatalog].status).toBe(status);
  if (field !== undefined) expect(res.body.field).toBe(field);
  expectNoInternals(res.text);
  return res.body;
}

function expectNoInternals(text: string): void {
  expect(text).not.toContain('    at ');
  expect(text).not.toContain('.ts:');
  expect(text).not.toContain('.js:');
  expect(text).not.toContain('node_modules');
  expect(text).not.toMatch(/"stack"/);
}

describe('error responses', () => {
  let t: InjectServer;
  let small: InjectServer;
  let api: ApiClient;
  const GENERATE = '/api/generate/text-to-image';

  beforeAll(async () => {
    // Nothing needs to render here: accepted jobs stay queued.
    [t, small] = await Promise.all([startInjectServer({ RUNNER_CONCURRENCY: '0' }), startInjectServer({ BODY_LIMIT_BYTES: '2048', RUNNER_CONCURRENCY: '0' })]);
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await Promise.all([t?.close(), small?.close()]);
  });

  describe('body validation (422)', () => {
    it('rejects an unknown field with unknown_field naming it', async () => {
      const body = expectError(await api.post(GENERATE, { prompt: 'a fox', colour_mode: 'vivid' }), 422, 'unknown_field', 'colour_mode');
      expect(body.message).toContain('colour_mode');
    });

    it('rejects a wrongly typed parameter with a message naming the field, the expectation and the value', async () => {
      const body = expectError(await api.post(GENERATE, { prompt: 'a fox', steps: 'many' }), 422, 'invalid_parameter', 'steps');
      expect(body.message).toBe("Expected integer 1–150 for steps but received 'many'");
    });

    it('does not coerce numeric strings in JSON bodies', async () => {
      expectError(await api.post(GENERATE, { prompt: 'a fox', steps: '10' }), 422, 'invalid_parameter', 'steps');
    });

    it('rejects num_images out of range', async () => {
      const body = expectError(await api.post(GENERATE, { prompt: 'a fox', num_images: 9 }), 422, 'invalid_parameter', 'num_images');
      expect(body.message).toBe('Expected integer 1–8 for num_images but received 9');
    });

    it('rejects steps above the maximum and below the minimum', async () => {
      expectError(await api.post(GENERATE, { prompt: 'a fox', steps: 151 }), 422, 'invalid_parameter', 'steps');
      expectError(await api.post(GENERATE, { prompt: 'a fox', steps: 0 }), 422, 'invalid_parameter', 'steps');
    });

    it('rejects a width that is not a multiple of 8', async () => {
      const body = expectError(await api.post(GENERATE, { prompt: 'a fox', width: 500, height: 512 }), 422, 'invalid_parameter', 'width');
      expect(body.message).toContain('multiple of 8');
      expect(body.message).toContain('500');
    });

    it('rejects a height that is not a multiple of 8', async () => {
      expectError(await api.post(GENERATE, { prompt: 'a fox', width: 512, height: 260 }), 422, 'invalid_parameter', 'height');
    });

    it('rejects aspect_ratio together with width', async () => {
      const body = expectError(await api.post(GENERATE, { prompt: 'a fox', aspect_ratio: '16:9', width: 512 }), 422, 'invalid_parameter', 'aspect_ratio');
      expect(body.message).toMatch(/not both/);
    });

    it('rejects an aspect_ratio outside the supported list', async () => {
      expectError(await api.post(GENERATE, { prompt: 'a fox', aspect_ratio: '5:4' }), 422, 'invalid_parameter', 'aspect_ratio');
    });

    it("resolves aspect_ratio '16:9' to 1344×768", async () => {
      const res = await api.post(GENERATE, { prompt: 'a wide valley', aspect_ratio: '16:9', steps: 3 });
      expect(res.status).toBe(202);
      expect(res.body.parameters).toMatchObject({ width: 1344, height: 768 });
    });

    it('rejects an unknown model with unknown_model listing the available models', async () => {
      const body = expectError(await api.post(GENERATE, { prompt: 'a fox', model: 'sdxl-nope' }), 422, 'unknown_model', 'model');
      expect(body.message).toContain('sdxl-nope');
      expect(body.message).toContain('preview');
      expect(body.available).toEqual(['preview', 'preview-t2v', 'preview-i2v', 'preview-ti2v']);
    });

    it('rejects an empty or blank prompt', async () => {
      expectError(await api.post(GENERATE, { prompt: '' }), 422, 'invalid_parameter', 'prompt');
      expectError(await api.post(GENERATE, { prompt: '   ' }), 422, 'invalid_parameter', 'prompt');
    });

    it('rejects a missing prompt', async () => {
      const body = expectError(await api.post(GENERATE, { steps: 5 }), 422, 'invalid_parameter', 'prompt');
      expect(body.message).toContain('prompt');
    });

    it('rejects an unsupported sampler as capability_unsupported', async () => {
      expectError(await api.post(GENERATE, { prompt: 'a fox', sampler: 'LMS-imaginary' }), 422, 'capability_unsupported', 'sampler');
    });

    it('rejects a width over the model limit as capability_unsupported', async () => {
      expectError(await api.post(GENERATE, { prompt: 'a fox', width: 4096, height: 512 }), 422, 'capability_unsupported', 'width');
    });
  });

  describe('malformed requests', () => {
    it('answers invalid JSON with 400 invalid_body', async () => {
      expectError(await api.post(GENERATE, '{"prompt": "a fox",'), 400, 'invalid_body');
    });

    it('answers an empty JSON body with 400 invalid_body', async () => {
      expectError(await api.request('POST', GENERATE, '', { 'content-type': 'application/json' }), 400, 'invalid_body');
    });

    it('answers a non-JSON content type with 415 unsupported_media_type', async () => {
      expectError(await api.post(GENERATE, 'prompt=a fox', { 'content-type': 'text/xml' }), 415, 'unsupported_media_type');
    });

    it('answers a body over the configured limit with 413 body_too_large', async () => {
      const res = await apiClient(small, small.adminToken).post(GENERATE, { prompt: 'x'.repeat(10 * 1024) });
      expectError(res, 413, 'body_too_large');
    });

    it('accepts a body under the configured limit on the same server', async () => {
      const res = await apiClient(small, small.adminToken).post(GENERATE, { prompt: 'x'.repeat(1000), width: 256, height: 256, steps: 3 });
      expect(res.status, res.text).toBe(202);
    });
  });

  describe('authentication', () => {
    it('answers a missing token with 401 unauthorized', async () => {
      const anon = apiClient(t, null);
      expectError(await anon.post(GENERATE, { prompt: 'a fox' }), 401, 'unauthorized');
      expectError(await anon.get('/api/images/history'), 401, 'unauthorized');
      expectError(await anon.get('/api/models'), 401, 'unauthorized');
    });

    it('answers a wrong token with 401 unauthorized', async () => {
      const wrong = apiClient(t, 'atl_this-is-not-a-real-token-at-all');
      expectError(await wrong.post(GENERATE, { prompt: 'a fox' }), 401, 'unauthorized');
      expectError(await wrong.get('/api/models'), 401, 'unauthorized');
    });

    it('answers a malformed Authorization header with 401', async () => {
      expectError(await apiClient(t, null).get('/api/models', { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'unauthorized');
    });

    it('checks the token before validating the body', async () => {
      expectError(await apiClient(t, null).post(GENERATE, { nonsense: true }), 401, 'unauthorized');
    });
  });

  describe('unknown things', () => {
    it('answers an unknown route with a 404 JSON error', async () => {
      const body = expectError(await api.get('/api/does-not-exist'), 404, 'not_found');
      expect(body.message).toContain('/api/does-not-exist');
      expectError(await apiClient(t, null).get('/nope/nope'), 404, 'not_found');
    });

    it('answers an unknown run id with 404 not_found', async () => {
      expectError(await api.get('/api/status/00000000-0000-0000-0000-000000000000'), 404, 'not_found', 'runId');
    });

    it('answers an unknown image id with 404 not_found', async () => {
      expectError(await api.get('/api/images/00000000-0000-0000-0000-000000000000'), 404, 'not_found');
    });

    it('validates query parameters of history', async () => {
      expectError(await api.get('/api/images/history?perPage=1000'), 422, 'invalid_parameter', 'perPage');
      expectError(await api.get('/api/images/history?page=0'), 422, 'invalid_parameter', 'page');
    });
  });
});
