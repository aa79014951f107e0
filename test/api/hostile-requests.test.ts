import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { errorCatalog } from '../../src/errors/catalog.js';
import { apiClient, type ApiClient, type ApiResponse } from '../helpers/api.js';
import { testSchema } from '../helpers/postgres.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

/** A catalog error: its code, the catalog's status, `{code, message, field}` and nothing of Fastify's. */
function expectCatalogError(res: ApiResponse, status: number, code: string, field?: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ code, message: expect.any(String) });
  expect(errorCatalog[code as keyof typeof errorCatalog].status).toBe(status);
  if (field !== undefined) expect(res.body.field).toBe(field);
  expect(res.body).not.toHaveProperty('statusCode');
  expect(res.body).not.toHaveProperty('error');
  expect(res.text).not.toContain('FST_');
}

const multipart = (api: ApiClient, body: string, contentType: string) => api.request('POST', '/api/uploads', body, { 'content-type': contentType });
const FILE_PART = '--abc\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n';

// Issue #14 §7 (hostile probes) and §5 (what generic clients send), answered without a socket.
describe('requests that used to escape the error catalog', () => {
  let t: InjectServer;
  let api: ApiClient;

  beforeAll(async () => {
    t = await startInjectServer({ RUNNER_CONCURRENCY: '1' });
    api = apiClient(t, (await t.addUser('prober')).token);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('malformed multipart uploads are 400/422, never 500', () => {
    it('answers a multipart body without a boundary parameter with 400 invalid_body', async () => {
      expectCatalogError(await multipart(api, `${FILE_PART}bytes\r\n--abc--\r\n`, 'multipart/form-data'), 400, 'invalid_body');
    });

    it('answers a body where the declared boundary never appears with 400 invalid_body', async () => {
      const other = `--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nbytes\r\n--zzz--\r\n`;
      expectCatalogError(await multipart(api, other, 'multipart/form-data; boundary=abc'), 400, 'invalid_body');
      expectCatalogError(await multipart(api, 'no multipart here at all', 'multipart/form-data; boundary=abc'), 400, 'invalid_body');
    });

    it('answers a file part cut before the closing boundary with 400 invalid_body', async () => {
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer();
      const res = await multipart(api, `${FILE_PART}${png.toString('latin1')}`, 'multipart/form-data; boundary=abc');
      expectCatalogError(res, 400, 'invalid_body');
      expect(res.body.message).toMatch(/multipart/i);
    });

    it('answers an extra part with 422 invalid_parameter naming file', async () => {
      const body = `--abc\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n${FILE_PART}bytes\r\n--abc--\r\n`;
      expectCatalogError(await multipart(api, body, 'multipart/form-data; boundary=abc'), 422, 'invalid_parameter', 'file');
    });
  });

  describe('router errors go through the catalog', () => {
    it('answers a path segment that is not UTF-8 with 400 invalid_path, not FST_ERR_BAD_URL', async () => {
      expectCatalogError(await api.get('/api/status/%c0%ae%c0%ae'), 400, 'invalid_path');
    });

    it('answers an id over 100 characters with 414 path_too_long, not FST_ERR_MAX_PARAM_LENGTH', async () => {
      expectCatalogError(await api.get(`/api/status/${'x'.repeat(101)}`), 414, 'path_too_long');
      // Up to the router's limit the route's own schema answers, naming the parameter.
      expectCatalogError(await api.get(`/api/status/${'x'.repeat(100)}`), 422, 'invalid_parameter', 'runId');
    });
  });

  describe('bodies generic clients send', () => {
    it('cancels a run when the cancel carries an empty body labelled application/json', async () => {
      const held = apiClient(t, (await t.addUser('held')).token);
      // A long job keeps the one runner busy, so the next one stays queued until canceled.
      const busy = await held.submit({ prompt: 'keeps the runner busy', width: 512, height: 512, steps: 50 });
      const queued = await held.submit({ prompt: 'never starts', width: 64, height: 64, steps: 1 });
      const res = await held.request('POST', `/api/runs/${queued.runId}/cancel`, '', { 'content-type': 'application/json' });
      expect(res.status, res.text).toBe(200);
      expect(res.body.status).toBe('canceled');
      expect((await held.status(queued.runId)).body.status).toBe('canceled');
      expect((await held.request('POST', `/api/runs/${busy.runId}/cancel`, '', { 'content-type': 'application/json; charset=utf-8' })).status).toBe(200);
    });

    it('saves and deletes an image when the request carries an empty body labelled application/json', async () => {
      const run = await api.generate({ prompt: 'an empty body', width: 64, height: 64, steps: 1, seed: 3 });
      const id = run.assets[0].id;
      const saved = await api.request('POST', `/api/images/${id}/save`, '', { 'content-type': 'application/json' });
      expect(saved.status, saved.text).toBe(201);
      const deleted = await api.request('DELETE', `/api/images/${saved.body.id}`, '', { 'content-type': 'application/json' });
      expect(deleted.status, deleted.text).toBe(204);
      expect((await api.get(`/api/images/${saved.body.id}`)).status).toBe(404);
    });

    it('reruns a run when the rerun carries an empty body labelled application/json (its body is optional)', async () => {
      const run = await api.generate({ prompt: 'run me again', width: 64, height: 64, steps: 1, seed: 5 });
      const res = await api.request('POST', `/api/runs/${run.runId}/rerun`, '', { 'content-type': 'application/json' });
      expect(res.status, res.text).toBe(202);
      expect(res.body.seed).toBe(5);
      expect((await api.waitFor(res.body.runId)).status).toBe('succeeded');
    });

    it('still answers an empty JSON body with 400 invalid_body on a route that takes a body', async () => {
      expectCatalogError(await api.request('POST', '/api/generate/text-to-image', '', { 'content-type': 'application/json' }), 400, 'invalid_body');
    });

    it('answers a value nested 5000 deep (10 KB) with 422 invalid_parameter, not a 500', async () => {
      const deep = `{"prompt":"x","controlnet":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      expect(deep.length).toBeGreaterThan(10_000);
      expectCatalogError(await api.post('/api/generate/text-to-image', deep), 422, 'invalid_parameter', 'controlnet');
      // The same under the nesting limit: the schema names the entry, the message quotes it truncated.
      const shallow = await api.post('/api/generate/text-to-image', `{"prompt":"x","controlnet":${'['.repeat(50)}${']'.repeat(50)}}`);
      expectCatalogError(shallow, 422, 'invalid_parameter', 'controlnet[0]');
      expect(shallow.body.message).toContain(`received ${'['.repeat(40)}…`);
    });

    it('answers text/plain with 415 unsupported_media_type, as docs/errors.md says', async () => {
      expectCatalogError(await api.request('POST', '/api/generate/text-to-image', '{"prompt":"x"}', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
      expectCatalogError(await api.request('POST', '/api/runs/whatever/cancel', 'x', { 'content-type': 'text/plain;charset=UTF-8' }), 415, 'unsupported_media_type');
    });
  });

  describe('the Host header the links are built from', () => {
    it('answers a Host that is not host[:port] with 422 invalid_parameter naming Host, before anything is recorded', async () => {
      const own = apiClient(t, (await t.addUser('hosts')).token);
      const run = await own.generate({ prompt: 'linked', width: 64, height: 64, steps: 1, seed: 6 });
      for (const host of ['a b', 'evil.example/x?y=', 'user@evil.example', 'evil.example:80:80']) {
        expectCatalogError(await own.request('GET', `/api/status/${run.runId}`, undefined, { host }), 422, 'invalid_parameter', 'Host');
      }
      const openai = await own.request('POST', '/v1/images/generations', { prompt: 'never recorded', size: '64x64' }, { host: 'a b' });
      expect(openai.status, openai.text).toBe(422);
      expect(openai.body.error).toMatchObject({ code: 'invalid_parameter', param: 'Host' });
      expect((await own.get('/api/runs')).body.runs.map((r: any) => r.runId)).toEqual([run.runId]);
    });

    it('builds links from a well-formed Host, a name, an address or a bracketed IPv6 address with a port', async () => {
      const run = await api.generate({ prompt: 'well linked', width: 64, height: 64, steps: 1, seed: 7 });
      for (const host of ['media.example', 'Media.Example:8443', '10.1.2.3:8787', '[::1]:8787', 'under_score.local']) {
        const res = await api.request('GET', `/api/status/${run.runId}`, undefined, { host });
        expect(res.status, res.text).toBe(200);
        expect(new URL(res.body.assets[0].url).host).toBe(new URL(`http://${host}`).host);
      }
    });
  });

  it('refuses a signed media URL whose expires is spelled with a leading zero', async () => {
    const run = await api.generate({ prompt: 'one spelling', width: 64, height: 64, steps: 1, seed: 4 });
    const url = new URL(run.assets[0].url);
    expect((await api.download(url.toString())).status).toBe(200);
    url.searchParams.set('expires', `0${url.searchParams.get('expires')}`);
    expectCatalogError(await apiClient(t, null).get(`${url.pathname}${url.search}`), 403, 'signature_invalid');
  });
});

/** A multipart body with one PNG part named `file` (or `image`) under `filename`, and text fields. */
async function pngForm(filename: string, fields: Record<string, string> = {}, part = 'file'): Promise<{ body: Uint8Array; contentType: string }> {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#08f' } }).png().toBuffer();
  const text = Object.entries(fields).map(([name, value]) => `--abc\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const head = `${text.join('')}--abc\r\nContent-Disposition: form-data; name="${part}"; filename="${filename}"\r\nContent-Type: image/png\r\n\r\n`;
  return { body: Buffer.concat([Buffer.from(head, 'utf8'), png, Buffer.from('\r\n--abc--\r\n')]), contentType: 'multipart/form-data; boundary=abc' };
}

// PostgreSQL refuses a NUL (U+0000) in every text column, and a PNG text chunk cannot carry one:
// a prompt, name, search or id holding one was a 500 there, and on SQLite a run that failed
// every attempt at storing its PNG.
describe.each([
  ['SQLite', () => ({})],
  ['PostgreSQL', () => ({ DATABASE_URL: schema.url })],
] as const)('text holding a NUL character, on %s', (_name, env) => {
  let t: InjectServer;
  let api: ApiClient;

  beforeAll(async () => {
    t = await startInjectServer({ RUNNER_CONCURRENCY: '0', ...env() });
    api = apiClient(t, t.adminToken);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses it in a JSON body with 422 invalid_parameter naming the field, and records nothing', async () => {
    expectCatalogError(await api.post('/api/generate/text-to-image', { prompt: 'a\u0000b' }), 422, 'invalid_parameter', 'prompt');
    expectCatalogError(await api.post('/api/generate/text-to-image', { prompt: 'ok', negative_prompt: 'x\u0000' }), 422, 'invalid_parameter', 'negative_prompt');
    expectCatalogError(await api.post('/api/admin/users', { name: 'bob\u0000' }), 422, 'invalid_parameter', 'name');
    expectCatalogError(await api.post('/api/uploads/presign', { filename: 'a\u0000.png', content_type: 'image/png', size_bytes: 10 }), 422, 'invalid_parameter', 'filename');
    const res = await api.post('/api/generate/text-to-image', { prompt: 'ok', loras: [{ name: 'x\u0000', weight: 1 }] });
    expectCatalogError(res, 422, 'invalid_parameter', 'loras[0].name');
    expect(res.body.message).toContain('NUL');
    expect((await api.get('/api/runs')).body.runs).toEqual([]);
  });

  it('refuses it in the query string and in a path parameter with 422 invalid_parameter', async () => {
    expectCatalogError(await api.get('/api/images/history/?q=a%00b'), 422, 'invalid_parameter', 'q');
    expectCatalogError(await api.get('/api/runs?model=a%00b'), 422, 'invalid_parameter', 'model');
    expectCatalogError(await api.get('/api/status/a%00b'), 422, 'invalid_parameter', 'runId');
  });

  it("refuses it in an OpenAI edit's prompt in OpenAI's error shape", async () => {
    const form = await pngForm('photo.png', { prompt: 'win\u0000ter' }, 'image');
    const res = await api.request('POST', '/v1/images/edits', form.body, { 'content-type': form.contentType });
    expect(res.status, res.text).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'invalid_parameter', param: 'prompt' });
  });

  it("keeps a direct upload whose file name holds one, without it (the name is only informational)", async () => {
    const form = await pngForm('a\u0000b.png');
    const res = await api.request('POST', '/api/uploads', form.body, { 'content-type': form.contentType });
    expect(res.status, res.text).toBe(201);
    expect(res.body.filename).toBe('ab.png');
  });
});

const schema = testSchema();
afterAll(async () => {
  await schema.drop();
});
