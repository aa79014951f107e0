import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { probeVideo } from '../../src/media/video/probe-video.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { startInjectServer, type InjectServer } from '../helpers/test-server.js';

const solid = (width: number, height: number, colour: string) => sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();

async function upload(t: InjectServer, token: string, bytes: Buffer): Promise<string> {
  const res = await apiClient(t, token).upload(bytes, 'frame.png');
  if (res.status !== 201) throw new Error(`upload → ${res.status} ${res.text}`);
  return res.body.uploadId;
}

describe('video generation', () => {
  let t: InjectServer;
  let alice: ApiClient;
  let token: string;
  let work: string;
  beforeAll(async () => {
    t = await startInjectServer();
    token = (await t.addUser('alice')).token;
    alice = apiClient(t, token);
    work = await mkdtemp(join(tmpdir(), 'atelier-video-test-'));
  });
  afterAll(async () => {
    await t.close();
    await rm(work, { recursive: true, force: true });
  });

  it('renders a text-to-video run to a real H.264 MP4 with SPEC §4 metadata and a middle-frame thumbnail', async () => {
    const res = await alice.post('/api/generate/text-to-video', { model: 'preview-t2v', prompt: 'waves rolling onto a beach', width: 320, height: 192, num_frames: 16, fps: 8, seed: 4 });
    expect(res.status, res.text).toBe(202);
    expect(res.body.parameters).toMatchObject({ numFrames: 16, fps: 8 });
    const done = await alice.waitFor(res.body.runId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.progress).toMatchObject({ step: 16, totalSteps: 16 });
    const asset = done.assets[0];
    expect(asset).toMatchObject({ type: 'video', contentType: 'video/mp4' });
    expect(asset.metadata).toMatchObject({ format: 'mp4', width: 320, height: 192, fps: 8, frame_count: 16, duration_seconds: 2, seed: 4 });

    const mp4 = await alice.download(asset.url);
    expect(mp4.contentType).toBe('video/mp4');
    expect(asset.metadata.file_size_bytes).toBe(mp4.bytes.length);
    const file = join(work, 't2v.mp4');
    await writeFile(file, mp4.bytes);
    expect(await probeVideo(file)).toMatchObject({ codec: 'h264', width: 320, height: 192, frame_count: 16 });

    const thumb = await alice.download(asset.thumbnailUrl);
    const meta = await sharp(thumb.bytes).metadata();
    expect([meta.format, Math.max(meta.width!, meta.height!)]).toEqual(['webp', 256]);
  });

  it('runs a text-to-video request without model on the default video model, not the image default', async () => {
    const res = await alice.post('/api/generate/text-to-video', { prompt: 'a slow pan over hills', width: 64, height: 64, num_frames: 2, steps: 2 });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ mode: 't2v', model: 'preview-t2v' });
    const i2v = await alice.post('/api/generate/image-to-video', { start_image: { upload_id: await upload(t, token, await solid(64, 64, '#00ff00')) }, width: 64, height: 64, num_frames: 2 });
    expect(i2v.status, i2v.text).toBe(202);
    expect(i2v.body.model).toBe('preview-i2v');
    for (const run of [res.body, i2v.body]) expect((await alice.waitFor(run.runId)).status).toBe('succeeded');
  });

  it('moves an i2v-style ti2v video from the start image to the end image', async () => {
    const start = await upload(t, token, await solid(320, 192, '#ff0000'));
    const end = await upload(t, token, await solid(320, 192, '#0000ff'));
    const res = await alice.post('/api/generate/image-to-video', { model: 'preview-ti2v', prompt: 'a sunset turns into night', start_image: { upload_id: start }, end_image: { upload_id: end }, num_frames: 12, fps: 12 });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ mode: 'ti2v', parameters: { width: expect.any(Number), startImage: { uploadId: start }, endImage: { uploadId: end } } });
    const done = await alice.waitFor(res.body.runId);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const file = join(work, 'ti2v.mp4');
    await writeFile(file, (await alice.download(done.assets[0].url)).bytes);
    const first = await frameMean(file, 0);
    const last = await frameMean(file, 11);
    expect(first.r).toBeGreaterThan(first.b + 80);
    expect(last.b).toBeGreaterThan(last.r + 80);
  });

  it('applies the per-mode image rules of SPEC §2', async () => {
    const square = await upload(t, token, await solid(200, 200, '#00ff00'));
    const wide = await upload(t, token, await solid(300, 200, '#00ff00'));
    const t2vWithImage = await alice.post('/api/generate/text-to-video', { model: 'preview-t2v', prompt: 'x', start_image: { upload_id: square } });
    expect(t2vWithImage.status).toBe(422);
    expect(t2vWithImage.body.field).toBe('start_image');
    const i2vWithoutStart = await alice.post('/api/generate/image-to-video', { model: 'preview-i2v', prompt: 'x' });
    expect(i2vWithoutStart.status).toBe(422);
    const i2vWithEnd = await alice.post('/api/generate/image-to-video', { model: 'preview-i2v', prompt: 'x', start_image: { upload_id: square }, end_image: { upload_id: square }, num_frames: 4 });
    expect(i2vWithEnd.status).toBe(202);
    expect(i2vWithEnd.body.mode).toBe('i2v');
    expect(i2vWithEnd.body.warnings).toHaveLength(1);
    const mismatched = await alice.post('/api/generate/image-to-video', { model: 'preview-ti2v', prompt: 'x', start_image: { upload_id: square }, end_image: { upload_id: wide } });
    expect(mismatched.status).toBe(422);
    expect(mismatched.body).toMatchObject({ code: 'invalid_parameter', field: 'end_image' });
    const wrongModel = await alice.post('/api/generate/text-to-video', { model: 'preview', prompt: 'x' });
    expect(wrongModel.status).toBe(422);
    expect(wrongModel.body.code).toBe('capability_unsupported');
  });
});

const execFileP = promisify(execFile);

/** Mean colour of frame n, decoded with the same ffmpeg Atelier ships. */
async function frameMean(file: string, n: number): Promise<{ r: number; g: number; b: number }> {
  const { path } = (await import('@ffmpeg-installer/ffmpeg')).default as { path: string };
  const { stdout } = await execFileP(path, ['-v', 'error', '-i', file, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'png', '-'], { encoding: 'buffer', maxBuffer: 50e6 });
  const stats = await sharp(stdout).stats();
  return { r: stats.channels[0]!.mean, g: stats.channels[1]!.mean, b: stats.channels[2]!.mean };
}
