import { dirname, join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { CLIP_IMAGE_SIZE, clipPixelValues } from './clip-preprocess.js';
import type { ClipScorer } from './clip-scorer.js';
import { clipScoreOf } from './clip-scorer.js';
import { CLIP_CONTEXT_LENGTH, loadClipTokenizer } from './clip-tokenizer.js';

/**
 * A user-supplied CLIP model. `tokenizerPath` defaults to `tokenizer.json` next to the model.
 *
 * The model contract (what `optimum-cli export onnx --model openai/clip-vit-base-patch32`
 * produces):
 * - inputs: `pixel_values` float32 `[1, 3, 224, 224]` (see `clipPixelValues`), `input_ids`
 *   int64 `[1, 77]` (see `createClipTokenizer`), and optionally `attention_mask` int64
 *   `[1, 77]`, fed only when the model declares it. Batch and sequence axes may be dynamic.
 * - outputs: `image_embeds` and `text_embeds` (`[1, D]`, normalised or not); the score is
 *   100 × max(0, cosine). A model with only `logits_per_image` (`[1, 1]`) is read as
 *   100 × cosine, which holds for OpenAI's CLIP whose logit scale is 100.
 */
export interface OnnxClipConfig {
  readonly modelPath: string;
  readonly tokenizerPath?: string;
}

type Ort = typeof import('onnxruntime-node');

/**
 * Loads the model and tokenizer and checks the contract, so a wrong file fails at start-up
 * with a message rather than on the first job. `onnxruntime-node` is imported here, on
 * first use, so a server without CLIP never loads its native library.
 *
 * @throws Error when the files are missing or the model's inputs/outputs break the contract.
 * @example const scorer = await createOnnxClipScorer({ modelPath: '/models/clip/model.onnx' })
 */
export async function createOnnxClipScorer(config: OnnxClipConfig): Promise<ClipScorer> {
  const tokenizer = await loadClipTokenizer(config.tokenizerPath ?? join(dirname(config.modelPath), 'tokenizer.json'));
  const ort: Ort = await import('onnxruntime-node');
  let session: InferenceSession;
  try {
    session = await ort.InferenceSession.create(config.modelPath);
  } catch (error) {
    throw new Error(`Expected a loadable ONNX model at '${config.modelPath}' but ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const fetches = checkContract(session, config.modelPath);
  const feedsMask = session.inputNames.includes('attention_mask');
  // One inference at a time: each already uses every core, and queued runs only add memory.
  let queue: Promise<unknown> = Promise.resolve();

  async function run(png: Buffer, prompt: string): Promise<number> {
    const { ids, attentionMask } = tokenizer.encode(prompt);
    const int64 = (values: readonly number[]) => new ort.Tensor('int64', BigInt64Array.from(values, BigInt), [1, CLIP_CONTEXT_LENGTH]);
    const feeds: Record<string, Tensor> = {
      pixel_values: new ort.Tensor('float32', await clipPixelValues(png), [1, 3, CLIP_IMAGE_SIZE, CLIP_IMAGE_SIZE]),
      input_ids: int64(ids),
      ...(feedsMask ? { attention_mask: int64(attentionMask) } : {}),
    };
    const out = await session.run(feeds, fetches);
    if (fetches.length === 2) return clipScoreOf(firstRow(out.image_embeds!), firstRow(out.text_embeds!));
    return Math.max(0, Number(out.logits_per_image!.data[0]));
  }

  return {
    score(png, prompt) {
      const result = queue.then(() => run(png, prompt));
      queue = result.catch(() => undefined);
      return result;
    },
    close: () => session.release(),
  };
}

/** The outputs to fetch: both embeddings when present, else the logits. */
function checkContract(session: InferenceSession, path: string): string[] {
  const missing = ['pixel_values', 'input_ids'].filter((name) => !session.inputNames.includes(name));
  if (missing.length > 0) {
    throw new Error(`Expected the CLIP model '${path}' to take pixel_values and input_ids but it lacks ${missing.join(', ')} (inputs: ${session.inputNames.join(', ')})`);
  }
  const extra = session.inputNames.filter((name) => !['pixel_values', 'input_ids', 'attention_mask'].includes(name));
  if (extra.length > 0) throw new Error(`Expected the CLIP model '${path}' to need no inputs beyond pixel_values, input_ids and attention_mask but it also takes ${extra.join(', ')}`);
  const outputs = session.outputNames;
  if (outputs.includes('image_embeds') && outputs.includes('text_embeds')) return ['image_embeds', 'text_embeds'];
  if (outputs.includes('logits_per_image')) return ['logits_per_image'];
  throw new Error(`Expected the CLIP model '${path}' to output image_embeds and text_embeds, or logits_per_image, but it outputs ${outputs.join(', ')}`);
}

/** The first embedding of a `[batch, D]` (or `[D]`) float tensor. */
function firstRow(tensor: Tensor): Float32Array {
  const width = tensor.dims[tensor.dims.length - 1] ?? 0;
  return (tensor.data as Float32Array).subarray(0, width);
}
