import { authHeaders, readResponse } from '../../api/client';
import { SseParser, type SseEvent } from './sse';

export const TERMINAL_EVENTS: ReadonlySet<string> = new Set(['succeeded', 'failed', 'canceled']);

export interface StreamOptions {
  readonly signal: AbortSignal;
  readonly onEvent: (event: SseEvent) => void;
  /** Called before each reconnect, e.g. to show "Reconnecting…". */
  readonly onReconnect?: (attempt: number) => void;
  readonly fetchImpl?: typeof fetch;
  readonly maxAttempts?: number;
}

/**
 * Follows a run's event stream (`GET /api/status/stream/:runId`) to its terminal event.
 * EventSource cannot send the token, so this is fetch + {@link SseParser}; when the
 * connection drops it reconnects with Last-Event-ID and gets exactly what it missed.
 * Resolves with the terminal event's type, or undefined when aborted.
 */
export async function followRun(runId: string, options: StreamOptions): Promise<string | undefined> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const maxAttempts = options.maxAttempts ?? 20;
  let lastEventId: string | undefined;
  let retry = 1000;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (options.signal.aborted) return undefined;
    if (attempt > 0) {
      options.onReconnect?.(attempt);
      await sleep(Math.min(retry * attempt, 10_000), options.signal);
      if (options.signal.aborted) return undefined;
    }
    const parser = new SseParser();
    let terminal: string | undefined;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...authHeaders() };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      const response = await fetchImpl(`/api/status/stream/${encodeURIComponent(runId)}`, { headers, signal: options.signal });
      // A refused stream (404, 401) will not get better by retrying: surface the API error.
      if (!response.ok || !response.body) await readResponse(response);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of parser.push(decoder.decode(value, { stream: true }))) {
          options.onEvent(event);
          if (options.signal.aborted) return undefined;
          if (TERMINAL_EVENTS.has(event.event)) terminal = event.event;
        }
        if (terminal) {
          await reader.cancel().catch(() => undefined);
          break;
        }
      }
    } catch (error) {
      if (options.signal.aborted) return undefined;
      if (isHttpError(error)) throw error;
    } finally {
      lastEventId = parser.lastEventId ?? lastEventId;
      retry = parser.retry ?? retry;
    }
    if (terminal) return terminal;
  }
  throw new Error('Lost the connection to the run’s progress stream');
}

function isHttpError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ApiError';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
