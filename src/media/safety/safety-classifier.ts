import type { RgbPixels } from '../image/variants.js';

/** nsfwjs's five classes; a score is the class's probability, the five summing to ~1. */
export const SAFETY_CLASSES = ['drawing', 'hentai', 'neutral', 'porn', 'sexy'] as const;
export type SafetyClass = (typeof SAFETY_CLASSES)[number];
export type SafetyScores = Readonly<Record<SafetyClass, number>>;

/** Side of the square picture a classifier is given: MobileNetV2's own input size. */
export const SAFETY_INPUT_SIZE = 224;

/** One classification. `flagged` is the checker's own verdict, when it gives one. */
export interface SafetyResult {
  readonly model: string;
  readonly scores: SafetyScores;
  readonly flagged?: boolean;
}

/**
 * The safety-classifier port: the built-in nsfwjs model (nsfwjs-classifier.ts) or an external
 * checker (http-safety-checker.ts). It is given the picture as {@link SAFETY_INPUT_SIZE}² RGB
 * pixels, already decoded. Errors mean "not classified": the caller fails closed.
 */
export interface SafetyClassifier {
  readonly model: string;
  classify(pixels: RgbPixels): Promise<SafetyResult>;
}
