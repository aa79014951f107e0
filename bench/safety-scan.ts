import sharp from 'sharp';
import { DEFAULT_PRESET } from '../src/runner/store-options.js';
import { renderDerivatives, type RgbPixels } from '../src/media/image/variants.js';
import { createNsfwjsClassifier } from '../src/media/safety/nsfwjs-classifier.js';
import { SAFETY_INPUT_SIZE } from '../src/media/safety/safety-classifier.js';

export interface SafetyScanFigures {
  /** From a cold process to the first answer: worker thread, TensorFlow.js, WASM backend, weights, first inference. */
  readonly loadMs: number;
  /** Median time to classify one 224² picture once loaded. */
  readonly perImageMs: number;
  /** Median time of the derivatives of one 1024² PNG (thumbnail + the default preset's variants), for scale. */
  readonly derivativesMs: number;
  /** The same with the safety scan's 224² pixels taken from its decode (the resize alone, no classification). */
  readonly derivativesWithPixelsMs: number;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A 1024² picture with detail everywhere (noise over a gradient), so encoders have work to do. */
async function testPng(seed: number): Promise<Buffer> {
  const side = 1024;
  const data = Buffer.alloc(side * side * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    data[i] = ((i / 3) % side) / 4 + (state % 64);
  }
  return sharp(data, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
}

/**
 * The built-in safety classifier's cost (issue #17 §1): the model's load and the time per
 * image, beside what the derivatives of one image cost, so the share the scan adds is plain.
 *
 * @example const { loadMs, perImageMs } = await benchSafetyScan(20)
 */
export async function benchSafetyScan(images = 20): Promise<SafetyScanFigures> {
  const pngs = await Promise.all([1, 2, 3].map(testPng));
  const pixels: RgbPixels[] = [];
  const derivatives: number[] = [];
  const withPixels: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const png of pngs) {
      let started = performance.now();
      await renderDerivatives(png, DEFAULT_PRESET);
      derivatives.push(performance.now() - started);
      started = performance.now();
      await renderDerivatives(png, DEFAULT_PRESET, {
        inspect: {
          size: SAFETY_INPUT_SIZE,
          run: async (p) => {
            if (pixels.length < pngs.length) pixels.push(p);
            return { blur: false };
          },
        },
      });
      withPixels.push(performance.now() - started);
    }
  }

  const classifier = createNsfwjsClassifier();
  let started = performance.now();
  await classifier.classify(pixels[0]!);
  const loadMs = performance.now() - started;
  const perImage: number[] = [];
  for (let i = 0; i < images; i++) {
    started = performance.now();
    await classifier.classify(pixels[i % pixels.length]!);
    perImage.push(performance.now() - started);
  }
  return { loadMs, perImageMs: median(perImage), derivativesMs: median(derivatives), derivativesWithPixelsMs: median(withPixels) };
}
