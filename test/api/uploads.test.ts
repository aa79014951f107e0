import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { apiClient, readResponse } from '../helpers/api.js';
import { startInjectServer, startTestServer, type InjectServer, type TestServer } from '../helpers/test-server.js';

const png = (w = 64, h = 48, alpha = false) =>
  sharp({ create: { width: w, height: h, channels: alpha ? 4 : 3, background: { r: 200, g: 40, b: 40, alpha: 0.5 } } }).png().toBuffer();

describe('uploads', () => {
  let t: InjectServer;
  let alice: ReturnType<typeof apiClient>;
  let bob: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    t = await startInjectServer({ RUNNER_CONCURRENCY: '0' });
    alice = apiClient(t, (await t.addUser('alice')).token);
    bob = apiClient(t, (await t.addUser('bob')).token);
  });
  afterAll(async () => {
    await t.close();
  });

  const direct = (bytes: Buffer, name: string, token: string) => apiClient(t, token).upload(bytes, name);

  it('takes a direct multipart upload and describes it with seed-001 metadata', async () => {
    const token = (await t.addUser('carol')).token;
    const res = await direct(await png(64, 48, true), 'ref.png', token);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'ready', filename: 'ref.png', metadata: { format: 'png', width: 64, height: 48, has_alpha: true, pixel_count: 3072, aspect_ratio: 1.3333 } });
    expect(res.body.metadata.file_size_bytes).toBeGreaterThan(0);
  });

  it('decides the format by magic bytes, not the name', async () => {
    const token = (await t.addUser('dave')).token;
    const jpeg = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#00f' } }).jpeg().toBuffer();
    const res = await direct(jpeg, 'looks-like.png', token);
    expect(res.status).toBe(201);
    expect(res.body.metadata.format).toBe('jpeg');
    const svg = await direct(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'a.png', token);
    expect(svg.status).toBe(422);
    expect(svg.body.code).toBe('invalid_image');
  });

  it('refuses to presign more than the 10 MB limit', async () => {
    const res = await alice.request('POST', '/api/uploads/presign', { filename: 'a.png', content_type: 'image/png', size_bytes: 11 * 1024 * 1024 });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'image_too_large', field: 'size_bytes' });
  });

  it("hides one user's upload from another", async () => {
    const presign = await alice.request('POST', '/api/uploads/presign', { filename: 'a.png', content_type: 'image/png', size_bytes: 100 });
    expect((await bob.request('GET', `/api/uploads/${presign.body.uploadId}`)).status).toBe(404);
  });
});

describe('presigned upload URLs', () => {
  let t: TestServer;
  let alice: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    // A socket: the client PUTs raw bytes to the absolute URL the server hands out, streamed.
    t = await startTestServer({ RUNNER_CONCURRENCY: '0' });
    alice = apiClient(t, (await t.addUser('alice')).token);
  });
  afterAll(async () => {
    await t.close();
  });

  it('presigns a single-use, expiring URL that takes the raw bytes', async () => {
    const bytes = await png();
    const presign = await alice.request('POST', '/api/uploads/presign', { filename: 'ref.png', content_type: 'image/png', size_bytes: bytes.length });
    expect(presign.status).toBe(201);
    expect(presign.body).toMatchObject({ method: 'PUT', headers: { 'content-type': 'image/png' } });
    expect(Date.parse(presign.body.expiresAt)).toBeGreaterThan(Date.now());
    const pending = await alice.request('GET', `/api/uploads/${presign.body.uploadId}`);
    expect(pending.body.status).toBe('pending');

    const put = await readResponse(await fetch(presign.body.uploadUrl, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: bytes }));
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ uploadId: presign.body.uploadId, status: 'ready', metadata: { width: 64, height: 48 } });

    const again = await readResponse(await fetch(presign.body.uploadUrl, { method: 'PUT', body: bytes }));
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('upload_consumed');
  });

  it('refuses a body larger than the declared size, and a tampered URL', async () => {
    const bytes = await png(200, 200);
    const presign = await alice.request('POST', '/api/uploads/presign', { filename: 'a.png', content_type: 'image/png', size_bytes: 10 });
    const tooBig = await readResponse(await fetch(presign.body.uploadUrl, { method: 'PUT', body: bytes }));
    expect(tooBig.status).toBe(413);
    const tampered = presign.body.uploadUrl.replace(/signature=[^&]+/, 'signature=AAAA');
    const forged = await readResponse(await fetch(tampered, { method: 'PUT', body: bytes }));
    expect(forged.status).toBe(403);
  });
});
