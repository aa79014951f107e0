import { AtelierError } from '../errors/atelier-error.js';
import { checkUrl, type ResolvedAddress } from '../net/safe-request.js';
import { DEFAULT_WEBHOOK_EVENTS, formatWebhookEvents, WEBHOOK_EVENTS, type WebhookEvent } from './webhook-events.js';

/** Where a run reports, as its record keeps it (`jobs.webhook_url`, `jobs.webhook_events`). */
export interface WebhookTarget {
  readonly url: string;
  /** The comma list of {@link formatWebhookEvents}. */
  readonly events: string;
}

export interface WebhookUrlPolicy {
  /** `WEBHOOK_ALLOW_PRIVATE`: http, private and loopback targets too (local development, tests). */
  readonly allowPrivate: boolean;
  /** Resolves a host name (tests); default the system resolver. */
  readonly lookup?: (hostname: string) => Promise<readonly ResolvedAddress[]>;
}

/** A name that takes longer than this to resolve is refused; the client may retry. */
const RESOLVE_TIMEOUT_MS = 5_000;

/** The schemes a webhook may use under `policy`: https, and http only where private targets are allowed. */
export function webhookProtocols(policy: Pick<WebhookUrlPolicy, 'allowPrivate'>): ('https:' | 'http:')[] {
  return policy.allowPrivate ? ['https:', 'http:'] : ['https:'];
}

/**
 * Checks a request's `webhook` and `webhook_events` at submission and returns what the run
 * records, or undefined when the request has no webhook. The URL gets the SSRF guard of every
 * server-side fetch (src/net): an https URL whose host name resolves to public addresses only,
 * unless `allowPrivate`. Errors are 422s naming the field: `url_refused`, `url_fetch_failed`
 * (the name does not resolve), `invalid_parameter` (`webhook_events` empty, or without a
 * `webhook`). Events named twice count once.
 * Delivery checks the address again, since DNS may answer differently by then.
 *
 * @example await webhookTarget({ webhook: 'https://example.com/hook' }, { allowPrivate: false }) // { url, events: 'succeeded,failed,canceled' }
 */
export async function webhookTarget(request: { webhook?: string; webhook_events?: readonly WebhookEvent[] }, policy: WebhookUrlPolicy): Promise<WebhookTarget | undefined> {
  if (request.webhook === undefined) {
    if (request.webhook_events !== undefined) throw new AtelierError('invalid_parameter', 'Expected webhook_events only with a webhook URL, but the request has no webhook', { field: 'webhook_events' });
    return undefined;
  }
  if (request.webhook_events?.length === 0) {
    throw new AtelierError('invalid_parameter', `Expected at least one of ${WEBHOOK_EVENTS.join(', ')} for webhook_events but received []`, { field: 'webhook_events' });
  }
  const signal = AbortSignal.timeout(RESOLVE_TIMEOUT_MS);
  try {
    await checkUrl(request.webhook, { allowedProtocols: webhookProtocols(policy), allowPrivate: policy.allowPrivate, field: 'webhook', signal, ...(policy.lookup ? { lookup: policy.lookup } : {}) });
  } catch (error) {
    if (signal.aborted && !(error instanceof AtelierError)) throw new AtelierError('url_fetch_failed', `The webhook's host did not resolve within ${RESOLVE_TIMEOUT_MS / 1000} s`, { field: 'webhook' });
    throw error;
  }
  return { url: request.webhook, events: formatWebhookEvents(request.webhook_events ?? DEFAULT_WEBHOOK_EVENTS) };
}
