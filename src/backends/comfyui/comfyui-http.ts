import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { RetryableError, UnrecoverableError } from '../../errors/signals.js';
import type { WorkflowGraph } from './workflow-template.js';

/** A file ComfyUI lists in history, fetched with GET /view. */
export interface ComfyFileRef {
  readonly filename: string;
  readonly subfolder: string;
  readonly type: string;
}

/** The parts of a GET /history/{id} entry the adapter reads (PROTOCOLS §1). */
export interface HistoryEntry {
  readonly outputs?: Record<string, { readonly images?: readonly ComfyFileRef[]; readonly animated?: readonly boolean[] } | undefined>;
  readonly status?: { readonly status_str?: string; readonly completed?: boolean; readonly messages?: readonly [string, Record<string, unknown>][] };
}

interface RejectionBody {
  error?: string | { type?: string; message?: string; details?: string };
  node_errors?: Record<string, { class_type?: string; errors?: { message?: string; details?: string }[] }>;
}

/** "ComfyUI rejected the workflow: [type] message (details); node 3 (KSampler): Value not in list: …". */
export function describeRejection(body: RejectionBody): string {
  const { error } = body;
  const head = typeof error === 'string' ? error
    : `${error?.type ? `[${error.type}] ` : ''}${error?.message ?? 'invalid prompt'}${error?.details ? ` (${error.details})` : ''}`;
  const nodes = Object.entries(body.node_errors ?? {}).map(([id, node]) => {
    const errors = (node.errors ?? []).map((e) => (e.details ? `${e.message}: ${e.details}` : e.message)).join('; ');
    return `node ${id} (${node.class_type ?? 'unknown class'}): ${errors || 'invalid'}`;
  });
  return `ComfyUI rejected the workflow: ${[head, ...nodes].join('; ')}`;
}

/**
 * A thin client for ComfyUI's HTTP routes. Every failure is already a signal error: a
 * refused graph (400) is unrecoverable (`backend_rejected`), another 4xx unrecoverable
 * (`backend_failed`), a 5xx or a network failure retryable. When
 * the caller's signal aborts, its reason is rethrown so the caller decides what it meant.
 */
export class ComfyHttpClient {
  /** `headers` go with every request: an API key or Basic auth of a proxy in front of ComfyUI. */
  constructor(private readonly base: URL, private readonly headers: Readonly<Record<string, string>> = {}) {}

  private async request(path: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(new URL(path, this.base), { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string> | undefined) }, signal });
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      throw new RetryableError(`ComfyUI at ${this.base.origin} did not answer ${init.method ?? 'GET'} /${path}: ${(cause as Error).message}`, 'backend_failed', { cause });
    }
  }

  private async post(path: string, body: unknown, signal: AbortSignal): Promise<Response> {
    return this.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, signal);
  }

  private failed(what: string, res: Response, text: string): Error {
    const message = `ComfyUI answered ${what} with HTTP ${res.status}: ${text.slice(0, 300)}`;
    // A 4xx will repeat on a retry; a 5xx is the server's trouble and may pass.
    return res.status < 500 ? new UnrecoverableError(message, 'backend_failed') : new RetryableError(message, 'backend_failed');
  }

  /**
   * POST /prompt; returns the prompt_id ComfyUI queued it under (ours, unless it ignores it).
   * @throws UnrecoverableError `backend_rejected` naming the nodes when ComfyUI refuses the graph.
   */
  async queuePrompt(body: { prompt: WorkflowGraph; client_id: string; prompt_id: string }, signal: AbortSignal): Promise<string> {
    const res = await this.post('prompt', body, signal);
    const text = await res.text();
    if (res.ok) {
      try {
        const { prompt_id: id } = JSON.parse(text) as { prompt_id?: unknown };
        return typeof id === 'string' && id !== '' ? id : body.prompt_id;
      } catch {
        return body.prompt_id; // accepted; the id we sent is the best we know
      }
    }
    if (res.status === 400) {
      let parsed: RejectionBody = {};
      try {
        parsed = JSON.parse(text) as RejectionBody;
      } catch { /* not JSON: fall back to the generic message below */ }
      // The graph as bound is invalid for this server (a value not in a list, a missing model
      // or node): the same job would be refused again, as with A1111's validation errors.
      if (parsed.error !== undefined) throw new UnrecoverableError(describeRejection(parsed), 'backend_rejected');
    }
    throw this.failed('POST /prompt', res, text);
  }

  /** GET /history/{id}: the entry, or undefined while the prompt has not finished (ComfyUI answers `{}`). */
  async history(promptId: string, signal: AbortSignal): Promise<HistoryEntry | undefined> {
    const res = await this.request(`history/${encodeURIComponent(promptId)}`, {}, signal);
    if (!res.ok) throw new RetryableError(`ComfyUI answered GET /history/${promptId} with HTTP ${res.status}`, 'backend_failed');
    const body = (await res.json()) as Record<string, HistoryEntry | undefined>;
    return body[promptId];
  }

  /** GET /view. A listed file that 404s is retryable: a rerun writes it again. */
  private async viewResponse(file: ComfyFileRef, signal: AbortSignal): Promise<Response> {
    const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type });
    const res = await this.request(`view?${query}`, {}, signal);
    if (res.ok && res.body !== null) return res;
    await res.arrayBuffer().catch(() => {});
    const detail = res.status === 404 ? ' (listed in history but missing)' : '';
    throw new RetryableError(`ComfyUI answered GET /view for ${file.type}/${file.subfolder ? `${file.subfolder}/` : ''}${file.filename} with HTTP ${res.status}${detail}`, 'backend_failed');
  }

  /** An output's bytes (images). */
  async view(file: ComfyFileRef, signal: AbortSignal): Promise<Buffer> {
    return Buffer.from(await (await this.viewResponse(file, signal)).arrayBuffer());
  }

  /** An output streamed into `dest` (videos, which must never sit in memory whole). */
  async download(file: ComfyFileRef, dest: string, signal: AbortSignal): Promise<void> {
    const res = await this.viewResponse(file, signal);
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(dest), { signal });
    } catch (cause) {
      if (signal.aborted) throw signal.reason;
      throw new RetryableError(`Downloading ${file.filename} from ComfyUI failed: ${(cause as Error).message}`, 'backend_failed', { cause });
    }
  }

  /** POST /upload/image as `type: input`, overwriting: returns the name to put in LoadImage. */
  async uploadImage(data: Buffer, filename: string, signal: AbortSignal): Promise<string> {
    const form = new FormData();
    form.append('image', new Blob([data], { type: 'image/png' }), filename);
    form.append('type', 'input');
    form.append('overwrite', 'true');
    const res = await this.request('upload/image', { method: 'POST', body: form }, signal);
    const text = await res.text();
    if (!res.ok) throw this.failed('POST /upload/image', res, text);
    const { name, subfolder } = JSON.parse(text) as { name?: string; subfolder?: string };
    if (typeof name !== 'string') throw new RetryableError(`ComfyUI's POST /upload/image answer has no name: ${text.slice(0, 200)}`, 'backend_failed');
    return subfolder ? `${subfolder}/${name}` : name;
  }

  /**
   * GET /queue: the prompt ids running and pending. Entries are ComfyUI's queue tuples
   * `[number, prompt_id, prompt, extra_data, outputs]`.
   */
  async queue(signal: AbortSignal): Promise<{ running: string[]; pending: string[] }> {
    const res = await this.request('queue', {}, signal);
    if (!res.ok) {
      await res.arrayBuffer();
      throw new RetryableError(`ComfyUI answered GET /queue with HTTP ${res.status}`, 'backend_failed');
    }
    const body = (await res.json()) as { queue_running?: unknown; queue_pending?: unknown };
    const ids = (list: unknown) => (Array.isArray(list) ? list.map((item: unknown) => (Array.isArray(item) ? String(item[1]) : '')) : []);
    return { running: ids(body.queue_running), pending: ids(body.queue_pending) };
  }

  /**
   * POST /interrupt {prompt_id}. Since 2025-09 ComfyUI interrupts only that prompt; before, it
   * stops whatever is running, so callers must first see that ours is (GET /queue).
   */
  async interrupt(promptId: string, signal: AbortSignal): Promise<void> {
    await (await this.post('interrupt', { prompt_id: promptId }, signal)).arrayBuffer();
  }

  /** POST /queue {delete}: removes the prompt if it is still pending. */
  async dequeue(promptId: string, signal: AbortSignal): Promise<void> {
    await (await this.post('queue', { delete: [promptId] }, signal)).arrayBuffer();
  }

  /** GET /system_stats answered 200. */
  async alive(signal: AbortSignal): Promise<boolean> {
    const res = await this.request('system_stats', {}, signal);
    await res.arrayBuffer();
    return res.ok;
  }
}
