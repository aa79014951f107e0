import type { ClipScorer } from './clip-scorer.js';

/**
 * An evaluator service (seed 002's containerised CLIP/LPIPS evaluator). Contract:
 * `POST {url}/evaluate` with JSON `{ "image_b64": "<base64 PNG>", "prompt": "…" }`, answered
 * with 200 and JSON `{ "clip_score": number }` on the same 0–100 scale as {@link ClipScorer}.
 */
export interface ExternalClipConfig {
  /** Base URL, e.g. `http://evaluator:8000`; `/evaluate` is appended. */
  readonly url: string;
  /** Longest wait for one answer; default 10 s. */
  readonly timeoutMs?: number;
}

export const DEFAULT_EXTERNAL_TIMEOUT_MS = 10_000;

/**
 * A {@link ClipScorer} that asks an external service. The URL comes from the operator's
 * configuration, never from a request, so it is fetched directly (an evaluator on localhost or
 * a private network is the normal case) rather than through the SSRF-safe fetch.
 *
 * @example const scorer = createExternalClipScorer({ url: 'http://127.0.0.1:8000', timeoutMs: 5000 })
 */
export function createExternalClipScorer(config: ExternalClipConfig, fetchImpl: typeof fetch = fetch): ClipScorer {
  const endpoint = `${config.url.replace(/\/+$/, '')}/evaluate`;
  const timeoutMs = config.timeoutMs ?? DEFAULT_EXTERNAL_TIMEOUT_MS;
  return {
    async score(png, prompt) {
      let response: Response;
      let body: unknown;
      try {
        response = await fetchImpl(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ image_b64: png.toString('base64'), prompt }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        body = await response.json().catch(() => undefined);
      } catch (error) {
        const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
        throw new Error(`CLIP evaluator ${endpoint} failed: ${reason}`, { cause: error });
      }
      if (!response.ok) throw new Error(`CLIP evaluator ${endpoint} answered HTTP ${response.status}`);
      const score = (body as { clip_score?: unknown } | undefined)?.clip_score;
      if (typeof score !== 'number' || !Number.isFinite(score)) {
        throw new Error(`Expected a finite number for clip_score from ${endpoint} but received ${JSON.stringify(score)}`);
      }
      return score;
    },
    close: async () => {},
  };
}
