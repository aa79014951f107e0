import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untrustedDecodes } from '../../src/media/image/decode-pool.js';
import { apiClient, type ApiClient } from '../helpers/api.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startServerOnDir, type TestServer } from '../helpers/test-server.js';
import { tallPng } from '../helpers/tall-png.js';

/** The slow-to-validate upload of issue #14 §7: a valid 1×20 000 000 PNG, 39 KB. */
const SLOW = tallPng(1, 20_000_000);
const JOB = { prompt: 'a lighthouse at dusk', width: 512, height: 512, steps: 4 } as const;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { ms: performance.now() - started, result };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Victim {
  /** One small upload, expected to succeed. */
  upload(): Promise<number>;
  /** One 512 px job from submission to success. */
  job(): Promise<number>;
}

function victimOf(api: ApiClient, small: Buffer): Victim {
  let seed = 0;
  return {
    async upload() {
      const { ms, result } = await timed(() => api.upload(small, 'small.png'));
      expect(result.status, result.text).toBe(201);
      return ms;
    },
    async job() {
      const { ms, result } = await timed(() => api.generate({ ...JOB, seed: ++seed }));
      expect(result.status).toBe('succeeded');
      return ms;
    },
  };
}

interface Times {
  readonly upload: number;
  readonly job: number;
}

/** Medians of three uploads and three jobs, interleaved; `between` runs after the first pair. */
async function sample(victim: Victim, between: () => void = () => {}): Promise<Times> {
  const uploads: number[] = [];
  const jobs: number[] = [];
  for (let i = 0; i < 3; i++) {
    uploads.push(await victim.upload());
    jobs.push(await victim.job());
    if (i === 0) between();
  }
  return { upload: median(uploads), job: median(jobs) };
}

/**
 * Idle is measured in the same test, before and after the attack, and the slower of the two
 * counts: the machine is shared, and its load may drift between the phases.
 */
function idleOf(before: Times, after: Times): Times {
  return { upload: Math.max(before.upload, after.upload), job: Math.max(before.job, after.job) };
}

const ms = (times: Times) => `upload ${times.upload.toFixed(0)} ms, job ${times.job.toFixed(0)} ms`;

/** Resolves once `predicate` holds, polling; never a fixed sleep. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// Issue #14 §7: four concurrent uploads of a valid 1×20 000 000 PNG held libuv's whole pool for
// ~30 s, and another user's 64×64 upload took 29 s and a 512 px job 30 s. The bound is the
// issue's: the other user's upload and job stay within 2× their idle time.
describe("slow-to-validate uploads do not hold up other users' uploads and jobs", () => {
  let dir: { dir: string; remove: () => Promise<void> };
  let t: TestServer;
  let attacker: ApiClient;
  let victim: Victim;

  async function start(uploads: Record<string, unknown>): Promise<void> {
    dir = await makeTempDir('atelier-upload-isolation-');
    const config = join(dir.dir, 'atelier.config.json');
    await writeFile(config, JSON.stringify({ uploads }));
    // A socket: the uploads race each other as they would from the network.
    t = await startServerOnDir(dir.dir, { RUNNER_CONCURRENCY: '1', ATELIER_CONFIG: config });
    attacker = apiClient(t, (await t.addUser('mallory')).token);
    const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#36c', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
      .png()
      .toBuffer();
    victim = victimOf(apiClient(t, (await t.addUser('victor')).token), small);
  }

  async function stop(): Promise<void> {
    await t?.close();
    await dir?.remove();
  }

  describe('with the default limits', () => {
    beforeAll(() => start({}));
    afterAll(stop);

    it('refuses four concurrent 1×20 000 000 PNGs from their headers; the other user keeps within 2× idle', async () => {
      await victim.upload(); // warm-up: first-use costs (sharp, the database) are not the point
      await victim.job();
      const before = await sample(victim);
      const attack = timed(() => Promise.all(Array.from({ length: 4 }, () => attacker.upload(SLOW, 'tall.png'))));
      const during = await sample(victim);
      const refused = await attack;
      const after = await sample(victim);
      const idle = idleOf(before, after);
      console.info(`default limits: idle ${ms(idle)}; with the attack ${ms(during)}; the four refusals took ${refused.ms.toFixed(0)} ms`);
      expect(during.upload).toBeLessThanOrEqual(2 * idle.upload);
      expect(during.job).toBeLessThanOrEqual(2 * idle.job);
      for (const res of refused.result) {
        expect(res.status, res.text).toBe(422);
        expect(res.body).toMatchObject({ code: 'image_too_many_pixels' });
      }
    });
  });

  describe('with the longest side lifted, so the four images are really decoded', () => {
    // Each decode is stopped after 1 s; the pool runs one of mallory's at a time.
    beforeAll(() => start({ maxEdge: 20_000_000, decodeTimeoutSeconds: 1 }));
    afterAll(stop);

    // The 2× bound is asserted above, where the shapes are refused from the header. Here the four
    // decodes really run on this 2-core machine while the rest of the suite runs beside it, so
    // what is asserted is what does not depend on the machine's load: the other user's upload
    // and job complete while the decodes run, and each slow decode is stopped by its time limit.
    it("serves the other user's upload and job while the four decodes run, and stops each decode at its time limit", async () => {
      await victim.upload();
      await victim.job();
      const before = await sample(victim);
      const attack = timed(() => Promise.all(Array.from({ length: 4 }, () => attacker.upload(SLOW, 'tall.png'))));
      await until(() => untrustedDecodes.counts.running > 0, "mallory's first decode");
      let overlapped = false;
      const during = await sample(victim, () => (overlapped = untrustedDecodes.counts.running + untrustedDecodes.counts.waiting > 0));
      const refused = await attack;
      const after = await sample(victim);
      const idle = idleOf(before, after);
      console.info(`decoded attack: idle ${ms(idle)}; during the decodes ${ms(during)}; the four refusals took ${refused.ms.toFixed(0)} ms`);
      // The first upload and job ran entirely while mallory's images were being decoded.
      expect(overlapped).toBe(true);
      expect(during.upload).toBeGreaterThan(0);
      expect(during.job).toBeGreaterThan(0);
      for (const res of refused.result) {
        expect(res.status, res.text).toBe(422);
        expect(res.body).toMatchObject({ code: 'invalid_image', message: 'The PNG image took longer than 1 s to decode' });
      }
    });
  });
});
