/**
 * Scores how well an image matches its prompt, on the CLIPScore scale (Hessel et al. 2021):
 * 100 × max(0, cosine(image embedding, text embedding)). Good text-to-image matches with
 * ViT-B/32 land around 30–35; unrelated pairs around 15–20.
 *
 * Implementations: `createOnnxClipScorer` (a local ONNX model, `onnx-clip-scorer.ts`) and
 * `createExternalClipScorer` (`POST {url}/evaluate`, `external-clip-scorer.ts`); pick one
 * from configuration with `createClipScorer`.
 *
 * @example const score = await scorer.score(png, 'a lighthouse at dusk') // 31.4
 */
export interface ClipScorer {
  /** @throws Error when the image does not decode or the model/service fails. */
  score(png: Buffer, prompt: string): Promise<number>;
  /** Releases the model, if any. */
  close(): Promise<void>;
}

/**
 * The CLIPScore of two embeddings: 100 × cosine similarity, clamped at 0. Embeddings need not
 * be normalised; a zero vector scores 0.
 *
 * @throws Error when the embeddings differ in length.
 * @example clipScoreOf([1, 0, 0], [1, 1, 0]) // 70.71…
 */
export function clipScoreOf(image: ArrayLike<number>, text: ArrayLike<number>): number {
  if (image.length !== text.length || image.length === 0) {
    throw new Error(`Expected image and text embeddings of one non-zero length but received ${image.length} and ${text.length}`);
  }
  let dot = 0;
  let ii = 0;
  let tt = 0;
  for (let i = 0; i < image.length; i += 1) {
    dot += image[i]! * text[i]!;
    ii += image[i]! * image[i]!;
    tt += text[i]! * text[i]!;
  }
  if (ii === 0 || tt === 0) return 0;
  return 100 * Math.max(0, dot / Math.sqrt(ii * tt));
}
