import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createNsfwjsClassifier, NSFWJS_MODEL } from '../../../src/media/safety/nsfwjs-classifier.js';
import { SAFETY_CLASSES, SAFETY_INPUT_SIZE } from '../../../src/media/safety/safety-classifier.js';
import type { RgbPixels } from '../../../src/media/image/variants.js';

const SIDE = SAFETY_INPUT_SIZE;

async function flat(colour: string): Promise<RgbPixels> {
  const data = await sharp({ create: { width: SIDE, height: SIDE, channels: 3, background: colour } }).raw().toBuffer();
  return { data, width: SIDE, height: SIDE };
}

/** Skin tones in a soft diagonal gradient with noise: nothing like a flat colour to the network. */
function skinGradient(): RgbPixels {
  const data = Buffer.alloc(SIDE * SIDE * 3);
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 31) - 15;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const t = (x + y) / (2 * SIDE);
      const i = (y * SIDE + x) * 3;
      data[i] = Math.max(0, Math.min(255, 224 - 40 * t + noise()));
      data[i + 1] = Math.max(0, Math.min(255, 172 - 50 * t + noise()));
      data[i + 2] = Math.max(0, Math.min(255, 144 - 50 * t + noise()));
    }
  }
  return { data, width: SIDE, height: SIDE };
}

describe('the built-in safety classifier (nsfwjs MobileNetV2 on tfjs WASM)', () => {
  const classifier = createNsfwjsClassifier();

  it('gives the five class probabilities, each in [0, 1], summing to ~1', async () => {
    const result = await classifier.classify(await flat('#446688'));
    expect(result.model).toBe(NSFWJS_MODEL);
    expect(Object.keys(result.scores).sort()).toEqual([...SAFETY_CLASSES]);
    for (const name of SAFETY_CLASSES) {
      expect(result.scores[name]).toBeGreaterThanOrEqual(0);
      expect(result.scores[name]).toBeLessThanOrEqual(1);
    }
    expect(SAFETY_CLASSES.reduce((sum, name) => sum + result.scores[name], 0)).toBeCloseTo(1, 3);
    // The first classification loads the model: seconds, more on a busy machine.
  }, 120_000);

  it('is deterministic for the same pixels and tells different pictures apart', async () => {
    const blue = await flat('#446688');
    const [first, again, skin] = [await classifier.classify(blue), await classifier.classify(blue), await classifier.classify(skinGradient())];
    expect(again.scores).toEqual(first.scores);
    const distance = SAFETY_CLASSES.reduce((sum, name) => sum + Math.abs(first.scores[name] - skin.scores[name]), 0);
    expect(distance).toBeGreaterThan(0.05);
  }, 60_000);

  it('refuses pixels that are not RGB of the stated size', async () => {
    await expect(classifier.classify({ data: Buffer.alloc(10), width: SIDE, height: SIDE })).rejects.toThrow(/Expected 224×224 RGB pixels/);
  });
});
