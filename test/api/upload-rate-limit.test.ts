import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { UserRow } from '../../src/db/schema.js';
import { AtelierError } from '../../src/errors/atelier-error.js';
import { createUploadRateLimit } from '../../src/api/plugins/upload-rate-limit.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServerOnDir, writeConfigFile } from '../helpers/server-extras.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import type { InjectServer } from '../helpers/test-server.js';

const user = (id: string, role: 'user' | 'admin' = 'user') => ({ id, name: id, role }) as unknown as UserRow;

function refusal(run: () => unknown): AtelierError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AtelierError);
    return error as AtelierError;
  }
  throw new Error('expected a refusal');
}

describe('createUploadRateLimit', () => {
  it('refuses the upload over perMinute with the seconds until the oldest leaves the window', () => {
    let now = 1_000_000;
    const limit = createUploadRateLimit({ perMinute: 3, concurrent: 0, exemptAdmins: true }, () => now);
    for (let i = 0; i < 3; i++) {
      limit.acquire(user('u'))();
      now += 10_000;
    }
    const error = refusal(() => limit.acquire(user('u')));
    expect([error.code, error.status]).toEqual(['rate_limited', 429]);
    // The first upload was 30 s ago: it leaves the window in 30 s.
    expect(error.details).toEqual({ retryAfterSeconds: 30, limit: 3, window: 'upload_minute' });
    expect(() => limit.acquire(user('someone-else'))).not.toThrow();
    now += 30_000;
    expect(() => limit.acquire(user('u'))).not.toThrow();
  });

  it('refuses more than `concurrent` uploads in flight, and frees a slot on release (once)', () => {
    const limit = createUploadRateLimit({ perMinute: 0, concurrent: 2, exemptAdmins: true });
    const first = limit.acquire(user('u'));
    const second = limit.acquire(user('u'));
    const error = refusal(() => limit.acquire(user('u')));
    expect(error.details).toEqual({ retryAfterSeconds: 1, limit: 2, window: 'upload_concurrent' });
    first();
    first();
    const third = limit.acquire(user('u'));
    expect(() => limit.acquire(user('u'))).toThrow(AtelierError);
    second();
    third();
    // A presign counts per minute only: it holds no slot.
    for (let i = 0; i < 5; i++) limit.acquire(user('u'), { concurrent: false });
  });

  it('lets admins through when exemptAdmins, and 0 turns a limit off', () => {
    const limit = createUploadRateLimit({ perMinute: 1, concurrent: 1, exemptAdmins: true }, () => 0);
    for (let i = 0; i < 5; i++) limit.acquire(user('root', 'admin'));
    const strict = createUploadRateLimit({ perMinute: 1, concurrent: 0, exemptAdmins: false }, () => 0);
    strict.acquire(user('root', 'admin'));
    expect(() => strict.acquire(user('root', 'admin'))).toThrow(AtelierError);
    const off = createUploadRateLimit({ perMinute: 0, concurrent: 0, exemptAdmins: false });
    for (let i = 0; i < 100; i++) off.acquire(user('u'));
  });
});

describe('upload rate limits over the API (uploads.perMinute = 3)', () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let t: InjectServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let png: Buffer;

  beforeAll(async () => {
    dir = await makeTempDir('atelier-upload-limits-');
    t = await startInjectServerOnDir(dir.dir, { RUNNER_CONCURRENCY: '0', ATELIER_CONFIG: await writeConfigFile(dir.dir, { uploads: { perMinute: 3 } }) });
    alice = apiClient(t, (await t.addUser('alice')).token);
    bob = apiClient(t, (await t.addUser('bob')).token);
    png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#0a0' } }).png().toBuffer();
  });
  afterAll(async () => {
    await t?.close();
    await dir?.remove();
  });

  it('answers the 4th upload of a minute with 429 rate_limited and Retry-After; other users are not affected', async () => {
    expect((await alice.upload(png)).status).toBe(201);
    expect((await alice.post('/api/uploads/presign', { filename: 'a.png', content_type: 'image/png', size_bytes: png.length })).status).toBe(201);
    expect((await alice.upload(png)).status).toBe(201);
    const refused = await alice.upload(png);
    expect(refused.status, refused.text).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate_limited', limit: 3, window: 'upload_minute' });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.retryAfterSeconds).toBe(retryAfter);
    expect((await alice.post('/api/uploads/from-url', { url: 'https://example.invalid/a.png' })).status).toBe(429);
    expect((await bob.upload(png)).status).toBe(201);
  });
});
