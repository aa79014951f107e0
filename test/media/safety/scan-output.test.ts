import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { UnrecoverableError } from '../../../src/errors/signals.js';
import { renderDerivatives, type RgbPixels } from '../../../src/media/image/variants.js';
import { DEFAULT_PRESET } from '../../../src/runner/store-options.js';
import { inspectImage, scanVideoThumbnail } from '../../../src/media/safety/scan-output.js';
import type { SafetyRecord } from '../../../src/media/safety/safety-policy.js';
import type { SafetyScan } from '../../../src/media/safety/safety-scanner.js';

const verdict = (flagged: boolean): SafetyRecord => ({ model: 'fake', scores: { drawing: 0, hentai: 0, neutral: flagged ? 0 : 1, porn: flagged ? 1 : 0, sexy: 0 }, flagged });

/** A scan whose verdict arrives only when the test releases it, recording the pixels it saw. */
function heldScan(policy: SafetyScan['policy'], flagged: boolean) {
  const seen: RgbPixels[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const scan: SafetyScan = {
    policy,
    threshold: 0.7,
    async scan(pixels) {
      seen.push(pixels);
      await released;
      return verdict(flagged);
    },
  };
  return { scan, seen, release };
}

const png = () => sharp({ create: { width: 640, height: 480, channels: 3, background: '#aa5533' } }).png().toBuffer();

describe('inspectImage', () => {
  it('hands the scan 224² RGB pixels of the derivatives\' decode; under flag the derivatives do not wait for the verdict', async () => {
    const { scan, seen, release } = heldScan('flag', true);
    const check = inspectImage(scan, 0);
    const derivatives = await renderDerivatives(await png(), DEFAULT_PRESET, { inspect: check.inspect });
    expect(derivatives.variants.length).toBeGreaterThan(0);
    expect(seen.map((p) => [p.width, p.height, p.data.length])).toEqual([[224, 224, 224 * 224 * 3]]);
    release();
    expect(await check.record()).toEqual(verdict(true));
  });

  it('under blur every output is made from the blurred picture and the record says blurred', async () => {
    const noisy = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
    const plain = await renderDerivatives(noisy, DEFAULT_PRESET);
    const { scan, release } = heldScan('blur', true);
    release();
    const check = inspectImage(scan, 0);
    const blurred = await renderDerivatives(noisy, DEFAULT_PRESET, { inspect: check.inspect });
    expect(await check.record()).toEqual({ ...verdict(true), blurred: true });
    const spread = async (bytes: Buffer) => (await sharp(bytes).greyscale().stats()).channels[0]!.stdev;
    expect(await spread(blurred.thumbnail.data)).toBeLessThan((await spread(plain.thumbnail.data)) / 4);
    for (const [i, variant] of blurred.variants.entries()) {
      expect([variant.width, variant.height]).toEqual([plain.variants[i]!.width, plain.variants[i]!.height]);
      expect(await spread(variant.data), variant.name).toBeLessThan((await spread(plain.variants[i]!.data)) / 4);
    }
  });

  it('under block a flagged output throws output_refused before anything is encoded; a clean one passes', async () => {
    const refused = heldScan('block', true);
    refused.release();
    const error = await renderDerivatives(await png(), DEFAULT_PRESET, { inspect: inspectImage(refused.scan, 3).inspect }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(error).toMatchObject({ code: 'output_refused', message: expect.stringContaining('Output 3 was refused') });

    const clean = heldScan('block', false);
    clean.release();
    const check = inspectImage(clean.scan, 0);
    await renderDerivatives(await png(), DEFAULT_PRESET, { inspect: check.inspect });
    expect(await check.record()).toEqual(verdict(false));
  });
});

describe('scanVideoThumbnail', () => {
  it('scans the thumbnail at 224² and returns it unchanged when kept, blurred at its own size under blur', async () => {
    const data = await sharp({ create: { width: 256, height: 144, channels: 3, background: '#000000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).webp({ quality: 85 }).toBuffer();
    const thumbnail = { data, width: 256, height: 144 };
    const kept = heldScan('flag', true);
    kept.release();
    const flagged = await scanVideoThumbnail(kept.scan, 0, thumbnail);
    expect(flagged).toEqual({ record: verdict(true), thumbnail });
    expect(kept.seen.map((p) => [p.width, p.height])).toEqual([[224, 224]]);

    const blurring = heldScan('blur', true);
    blurring.release();
    const blurred = await scanVideoThumbnail(blurring.scan, 0, thumbnail);
    expect(blurred.record.blurred).toBe(true);
    expect(await sharp(blurred.thumbnail.data).metadata()).toMatchObject({ format: 'webp', width: 256, height: 144 });
    const stats = async (bytes: Buffer) => (await sharp(bytes).greyscale().stats()).channels[0]!.stdev;
    expect(await stats(blurred.thumbnail.data)).toBeLessThan((await stats(data)) / 4);
  });
});
