import { AtelierError } from '../errors/atelier-error.js';
import type { AdmissionCheck } from './admission.js';
import { createPromptBlocklist } from './prompt-blocklist.js';

/** Why a job was refused; for metrics and logs, never sent to the caller. */
export interface ModerationRefusal {
  /** blocklist or external: the content was flagged; unavailable: the external check failed closed. */
  readonly source: 'blocklist' | 'external' | 'unavailable';
  readonly field: 'prompt' | 'negative_prompt';
  readonly userId: string;
  /** The blocklist entry that matched, or the external service's reason. */
  readonly detail?: string;
}

export interface ExternalModeration {
  /** Receives `POST {"prompt": string, "negative_prompt": string | null}`, answers `{"flagged": boolean, "reason"?: string}`. */
  readonly url: string;
  /** Budget for the whole exchange, body included. */
  readonly timeoutMs: number;
  /**
   * When the service times out, errs, or answers something else: false (default) refuses
   * the job with `moderation_unavailable` (503); true lets it through unchecked.
   */
  readonly failOpen?: boolean;
  /** Sent with every request, e.g. `{ authorization: 'Bearer …' }`. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ModerationOptions {
  /** Words and phrases; see createPromptBlocklist for how they match. */
  readonly blocklist: readonly string[];
  readonly external?: ExternalModeration;
  /**
   * Also check the negative prompt (default true). Negative prompts often name what the
   * user wants kept out ("nude, gore"), so an operator may prefer to check prompts only.
   */
  readonly checkNegativePrompt?: boolean;
  /** Called once per refused job (connect a counter here). */
  readonly onRefused?: (refusal: ModerationRefusal) => void;
  /** Called when the external check fails, whether it then fails open or closed (log it). */
  readonly onExternalError?: (error: unknown) => void;
}

/**
 * The admission check for prompt moderation (SPEC §7): the blocklist first (local, cheap),
 * then the optional external service. A flagged job is refused with `prompt_refused` (422,
 * `field` `prompt` or `negative_prompt`) before it is recorded, so it never reaches a
 * backend. The message never names the matched term: echoing it would let callers map
 * the list by trial.
 *
 * @example
 * const moderation = createModerationCheck({
 *   blocklist: ['bad word'],
 *   external: { url: 'http://127.0.0.1:9000/moderate', timeoutMs: 2000 },
 *   onRefused: ({ source }) => metrics.moderationRefused.inc({ source }),
 * });
 */
export function createModerationCheck(options: ModerationOptions): AdmissionCheck {
  const blocklist = createPromptBlocklist(options.blocklist);
  const checkNegative = options.checkNegativePrompt ?? true;

  function refuse(refusal: ModerationRefusal, reason?: string): never {
    options.onRefused?.(refusal);
    const what = refusal.field === 'prompt' ? 'prompt' : 'negative prompt';
    throw new AtelierError('prompt_refused', `The ${what} was refused by this server's content policy`, {
      field: refusal.field,
      ...(reason === undefined ? {} : { details: { reason } }),
    });
  }

  return async ({ user, prompt, negativePrompt }) => {
    const fields: ['prompt' | 'negative_prompt', string][] = [['prompt', prompt]];
    if (checkNegative && negativePrompt) fields.push(['negative_prompt', negativePrompt]);
    for (const [field, text] of fields) {
      const term = blocklist.find(text);
      if (term !== undefined) refuse({ source: 'blocklist', field, userId: user.id, detail: term });
    }

    const external = options.external;
    if (!external || fields.every(([, text]) => text.trim() === '')) return;
    let verdict: Verdict;
    try {
      verdict = await askExternal(external, prompt, checkNegative ? negativePrompt : undefined);
    } catch (error) {
      options.onExternalError?.(error);
      if (external.failOpen) return;
      options.onRefused?.({ source: 'unavailable', field: 'prompt', userId: user.id });
      throw new AtelierError('moderation_unavailable', 'The moderation check is unavailable; try again later', { cause: error });
    }
    if (verdict.flagged) refuse({ source: 'external', field: 'prompt', userId: user.id, ...(verdict.reason ? { detail: verdict.reason } : {}) }, verdict.reason);
  };
}

interface Verdict {
  readonly flagged: boolean;
  readonly reason?: string;
}

async function askExternal(external: ExternalModeration, prompt: string, negativePrompt: string | undefined): Promise<Verdict> {
  const response = await fetch(external.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...external.headers },
    body: JSON.stringify({ prompt, negative_prompt: negativePrompt ?? null }),
    signal: AbortSignal.timeout(external.timeoutMs),
  });
  if (!response.ok) throw new Error(`The moderation service answered HTTP ${response.status}`);
  const body: unknown = await response.json();
  if (typeof body !== 'object' || body === null || typeof (body as { flagged?: unknown }).flagged !== 'boolean') {
    throw new Error('The moderation service answered without a boolean "flagged"');
  }
  const { flagged, reason } = body as { flagged: boolean; reason?: unknown };
  // The reason reaches the caller, so it is kept short; a service should send a category.
  return typeof reason === 'string' && reason !== '' ? { flagged, reason: reason.slice(0, 200) } : { flagged };
}
