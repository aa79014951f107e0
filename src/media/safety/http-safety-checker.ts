import sharp from 'sharp';
import type { RgbPixels } from '../image/variants.js';
import { SAFETY_CLASSES, type SafetyClassifier, type SafetyResult, type SafetyScores } from './safety-classifier.js';
import { EXTERNAL_CHECKER_PREFIX } from './safety-policy.js';

export interface HttpSafetyCheckerConfig {
  /** The checker's endpoint, POSTed to as it is. */
  readonly url: string;
  /** Longest wait for one answer; default 10 s. */
  readonly timeoutMs?: number;
}

export const DEFAULT_SAFETY_TIMEOUT_MS = 10_000;

/**
 * An external safety checker, like the CLIP evaluator: `POST {url}` with JSON
 * `{"image_b64": "<base64 PNG>"}` (the picture at 224², as the built-in model sees it),
 * answered with 200 and `{"flagged": boolean, "scores": {…}}` (scores optional, as
 * probabilities of nsfwjs's classes; missing classes count 0). Any other
 * answer throws, so the caller fails closed. The URL is the operator's, never a request's, so it
 * is fetched directly (a checker on localhost or a private network is the normal case).
 *
 * @example const checker = createHttpSafetyChecker({ url: 'http://127.0.0.1:9000/check' })
 */
export function createHttpSafetyChecker(config: HttpSafetyCheckerConfig, fetchImpl: typeof fetch = fetch): SafetyClassifier {
  const timeoutMs = config.timeoutMs ?? DEFAULT_SAFETY_TIMEOUT_MS;
  const model = `${EXTERNAL_CHECKER_PREFIX}${new URL(config.url).host}`;
  return {
    model,
    async classify(pixels: RgbPixels): Promise<SafetyResult> {
      const png = await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
      let response: Response;
      let body: unknown;
      try {
        response = await fetchImpl(config.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ image_b64: png.toString('base64') }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        body = await response.json().catch(() => undefined);
      } catch (error) {
        const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
        throw new Error(`Safety checker ${config.url} failed: ${reason}`, { cause: error });
      }
      if (!response.ok) throw new Error(`Safety checker ${config.url} answered HTTP ${response.status}`);
      const answer = body as { flagged?: unknown; scores?: unknown } | undefined;
      if (typeof answer?.flagged !== 'boolean') throw new Error(`Expected a boolean 'flagged' from safety checker ${config.url} but received ${JSON.stringify(answer?.flagged)}`);
      return { model, scores: scoresFrom(answer.scores), flagged: answer.flagged };
    },
  };
}

function scoresFrom(raw: unknown): SafetyScores {
  const given = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  return Object.fromEntries(
    SAFETY_CLASSES.map((name) => {
      const value = given[name];
      return [name, typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0];
    }),
  ) as unknown as SafetyScores;
}
