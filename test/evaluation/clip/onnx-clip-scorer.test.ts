import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_MEAN, CLIP_STD } from '../../../src/evaluation/clip/clip-preprocess.js';
import { createClipScorer } from '../../../src/evaluation/clip/create-clip-scorer.js';
import { createOnnxClipScorer } from '../../../src/evaluation/clip/onnx-clip-scorer.js';
import type { TokenizerJson } from '../../../src/evaluation/clip/clip-tokenizer.js';
import { buildOnnxModel, type NodeSpec, type ValueSpec } from '../../helpers/onnx-builder.js';
import { solidPng } from '../../helpers/synthetic-images.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { tinyId, tinyTokenizerJson } from '../../helpers/tiny-clip-tokenizer.js';

/**
 * A toy "CLIP": the image embedding is the mean normalised colour (R, G, B) and the text
 * embedding the mean of per-token rows of a table where 'red' is (1,0,0), 'green' (0,1,0),
 * 'blue' (0,0,1) and every other token 0. So a flat image scores exactly the cosine between
 * its normalised colour and the colour words of the prompt, computable by hand.
 */
const json = tinyTokenizerJson();
const vocabSize = Object.keys(json.model!.vocab).length;
const table = new Array<number>(vocabSize * 3).fill(0);
for (const [word, axis] of [['red</w>', 0], ['green</w>', 1], ['blue</w>', 2]] as const) table[tinyId(json, word) * 3 + axis] = 1;

const PIXELS: ValueSpec = { name: 'pixel_values', type: 'float', shape: ['batch', 3, 224, 224] };
const IDS: ValueSpec = { name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] };
const MASK: ValueSpec = { name: 'attention_mask', type: 'int64', shape: ['batch', 'sequence'] };
const imageNode: NodeSpec = { op: 'ReduceMean', inputs: ['pixel_values'], outputs: ['image_mean'], attributes: { axes: { ints: [2, 3] }, keepdims: { int: 0 } } };
const embeddingTable = { name: 'table', type: 'float' as const, dims: [vocabSize, 3], values: table };

/** Outputs image_embeds and text_embeds; padding is masked out with attention_mask. */
const embedsModel = () =>
  buildOnnxModel({
    inputs: [PIXELS, IDS, MASK],
    outputs: [
      { name: 'image_embeds', type: 'float', shape: ['batch', 3] },
      { name: 'text_embeds', type: 'float', shape: ['batch', 3] },
    ],
    initializers: [embeddingTable, { name: 'axis2', type: 'int64', dims: [1], values: [2] }],
    nodes: [
      { ...imageNode, outputs: ['image_embeds'] },
      { op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['rows'] },
      { op: 'Cast', inputs: ['attention_mask'], outputs: ['mask_f'], attributes: { to: { int: 1 } } },
      { op: 'Unsqueeze', inputs: ['mask_f', 'axis2'], outputs: ['mask_3d'] },
      { op: 'Mul', inputs: ['rows', 'mask_3d'], outputs: ['kept'] },
      { op: 'ReduceMean', inputs: ['kept'], outputs: ['text_embeds'], attributes: { axes: { ints: [1] }, keepdims: { int: 0 } } },
    ],
  });

/** Outputs only logits_per_image = 100 × cosine, and takes no attention_mask. */
const logitsModel = () =>
  buildOnnxModel({
    inputs: [PIXELS, IDS],
    outputs: [{ name: 'logits_per_image', type: 'float', shape: ['batch', 'batch'] }],
    initializers: [embeddingTable, { name: 'scale', type: 'float', dims: [], values: [100] }],
    nodes: [
      imageNode,
      { op: 'LpNormalization', inputs: ['image_mean'], outputs: ['image_unit'], attributes: { axis: { int: 1 }, p: { int: 2 } } },
      { op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['rows'] },
      { op: 'ReduceMean', inputs: ['rows'], outputs: ['text_mean'], attributes: { axes: { ints: [1] }, keepdims: { int: 0 } } },
      { op: 'LpNormalization', inputs: ['text_mean'], outputs: ['text_unit'], attributes: { axis: { int: 1 }, p: { int: 2 } } },
      { op: 'Transpose', inputs: ['text_unit'], outputs: ['text_t'], attributes: { perm: { ints: [1, 0] } } },
      { op: 'MatMul', inputs: ['image_unit', 'text_t'], outputs: ['cosine'] },
      { op: 'Mul', inputs: ['cosine', 'scale'], outputs: ['logits_per_image'] },
    ],
  });

/** The normalised pixel of a flat colour, as CLIP preprocessing makes it. */
const normalised = (rgb: readonly number[]) => rgb.map((v, c) => (v / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!);
const cosineScore = (a: readonly number[], b: readonly number[]) => {
  const dot = a.reduce((s, v, i) => s + v * b[i]!, 0);
  return 100 * Math.max(0, dot / Math.hypot(...a) / Math.hypot(...b));
};

describe('ONNX CLIP scorer', () => {
  let dir: string;
  let remove: () => Promise<void>;
  let red: Buffer;
  let green: Buffer;
  const write = async (name: string, bytes: Buffer | string) => {
    await writeFile(join(dir, name), bytes);
    return join(dir, name);
  };

  beforeAll(async () => {
    ({ dir, remove } = await makeTempDir());
    // Pads with 'blue', which the table does not zero: only the attention mask keeps it out.
    const padWithBlue: TokenizerJson = { ...json, padding: { pad_id: tinyId(json, 'blue</w>') } };
    await write('tokenizer.json', JSON.stringify(json));
    await write('pad-blue-tokenizer.json', JSON.stringify(padWithBlue));
    await write('model.onnx', embedsModel());
    await write('logits.onnx', logitsModel());
    red = await solidPng(300, 200, [255, 0, 0]); // not square: resize and crop run too
    green = await solidPng(64, 64, [0, 255, 0]);
  });
  afterAll(() => remove());

  it('scores 100 × cosine of image and text embeddings (hand-computed)', async () => {
    const scorer = await createOnnxClipScorer({ modelPath: join(dir, 'model.onnx') }); // tokenizer.json beside it
    try {
      // Red pixel → (1.9303, −1.7521, −1.4802); 'red' → (1, 0, 0): cosine 0.6439.
      expect(await scorer.score(red, 'red')).toBeCloseTo(64.39, 1);
      expect(await scorer.score(red, 'a RED cat')).toBeCloseTo(cosineScore(normalised([255, 0, 0]), [1, 0, 0]), 2); // float32 in the model
      expect(await scorer.score(green, 'green')).toBeCloseTo(cosineScore(normalised([0, 255, 0]), [0, 1, 0]), 2);
      // (1, 1, 0): 0.1782 / (2.9979 × √2) = 0.0420
      expect(await scorer.score(red, 'red green')).toBeCloseTo(4.2, 1);
    } finally {
      await scorer.close();
    }
  });

  it('clamps a negative cosine to 0 and gives 0 for a prompt with no embedding', async () => {
    const scorer = await createOnnxClipScorer({ modelPath: join(dir, 'model.onnx') });
    expect(await scorer.score(red, 'green')).toBe(0);
    expect(await scorer.score(red, 'the cat')).toBe(0);
    await scorer.close();
  });

  it('feeds attention_mask when the model takes it', async () => {
    const scorer = await createOnnxClipScorer({ modelPath: join(dir, 'model.onnx'), tokenizerPath: join(dir, 'pad-blue-tokenizer.json') });
    expect(await scorer.score(red, 'red')).toBeCloseTo(64.39, 1); // 74 'blue' pads would pull it to ~0
    await scorer.close();
  });

  it('reads logits_per_image as 100 × cosine when the model has no embeddings', async () => {
    const scorer = await createOnnxClipScorer({ modelPath: join(dir, 'logits.onnx'), tokenizerPath: join(dir, 'tokenizer.json') });
    expect(await scorer.score(red, 'red')).toBeCloseTo(64.39, 1);
    expect(await scorer.score(red, 'green')).toBe(0);
    await scorer.close();
  });

  it('answers concurrent calls each with its own score', async () => {
    const scorer = await createOnnxClipScorer({ modelPath: join(dir, 'model.onnx') });
    const scores = await Promise.all([scorer.score(red, 'red'), scorer.score(green, 'green'), scorer.score(red, 'green'), scorer.score(Buffer.from('x'), 'red').catch(() => -1)]);
    expect(scores.map((s) => Math.round(s))).toEqual([64, 67, 0, -1]);
    await scorer.close();
  });

  it('is what createClipScorer builds for a model path', async () => {
    const scorer = await createClipScorer({ modelPath: join(dir, 'model.onnx') });
    expect(await scorer!.score(red, 'red')).toBeCloseTo(64.39, 1);
    await scorer!.close();
    expect(await createClipScorer(undefined)).toBeUndefined();
  });

  it('refuses a model that breaks the contract, naming what is wrong', async () => {
    const tokenizerPath = join(dir, 'tokenizer.json');
    const noIds = await write('no-ids.onnx', buildOnnxModel({ inputs: [PIXELS], outputs: [{ name: 'image_embeds', type: 'float', shape: [1, 3] }], nodes: [{ ...imageNode, outputs: ['image_embeds'] }] }));
    await expect(createOnnxClipScorer({ modelPath: noIds, tokenizerPath })).rejects.toThrow(/to take pixel_values and input_ids but it lacks input_ids/);
    const noEmbeds = await write('no-embeds.onnx', buildOnnxModel({ inputs: [PIXELS, IDS], outputs: [{ name: 'pooled', type: 'float', shape: [1, 3] }], nodes: [{ ...imageNode, outputs: ['pooled'] }] }));
    await expect(createOnnxClipScorer({ modelPath: noEmbeds, tokenizerPath })).rejects.toThrow(/to output image_embeds and text_embeds, or logits_per_image, but it outputs pooled/);
    const garbage = await write('garbage.onnx', 'not a model');
    await expect(createOnnxClipScorer({ modelPath: garbage, tokenizerPath })).rejects.toThrow(/Expected a loadable ONNX model at/);
    await expect(createOnnxClipScorer({ modelPath: join(dir, 'elsewhere', 'model.onnx') })).rejects.toThrow(/Expected a readable tokenizer.json/);
  });
});
