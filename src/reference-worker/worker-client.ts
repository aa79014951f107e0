import { openAsBlob } from 'node:fs';
import type { Readable } from 'node:stream';
import { Readable as NodeReadable } from 'node:stream';
import { WORKER_PROTOCOL_VERSION, type ClaimedJob } from '../api/schemas/worker-protocol.js';

/** A claimed job, as POST /api/worker/claim answers (docs/worker-protocol.md). */
export type WorkerClaim = ClaimedJob;

export interface HeartbeatAnswer {
  readonly continue: boolean;
  readonly status: string;
  readonly lease_expires_at?: string;
}

export interface CompletionAnswer {
  readonly job_id: string;
  readonly status: 'succeeded' | 'retrying' | 'failed';
  readonly attempt: number;
  readonly assets: readonly { id: string; index: number; url: string }[];
  readonly error: { code: string; message: string } | null;
}

/** One output sent as a file part of a multipart completion: bytes in memory, or a file read as it is sent. */
export interface OutputPart {
  /** The part name, `asset_{index}` (the claim's upload.complete_parts). */
  readonly name: string;
  readonly contentType: string;
  readonly filename: string;
  readonly data?: Buffer;
  readonly path?: string;
}

/** A non-2xx answer of the server: the status and Atelier's `{code, message}`. */
export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** The lease is gone (409 lease_lost): the job is no longer ours; drop it. */
export function isLeaseLost(error: unknown): boolean {
  return error instanceof ProtocolError && error.code === 'lease_lost';
}

/**
 * Worth retrying: the server could not be reached or answered 5xx/429 (restarting, overloaded).
 * Anything else (4xx) is a refusal that repeating will not change.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof ProtocolError) return error.status >= 500 || error.status === 429;
  // Everything else is the transport: refused connection, reset, timeout.
  return true;
}

/** The HTTP side of the worker protocol, for one server and one worker token. */
export function createWorkerClient(server: string, token: string) {
  const base = server.replace(/\/+$/, '');
  const auth = { authorization: `Bearer ${token}` };

  async function answer<T>(response: Response): Promise<T> {
    const text = await response.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const { code, message } = (body ?? {}) as { code?: string; message?: string };
      throw new ProtocolError(response.status, code ?? `http_${response.status}`, message ?? `HTTP ${response.status}`);
    }
    return body as T;
  }

  async function post<T>(path: string, body: unknown, signal: AbortSignal): Promise<T> {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
    return answer<T>(response);
  }

  return {
    /** GET /api/worker/info: checks the token; lists the remote backends. */
    async info(signal: AbortSignal = AbortSignal.timeout(30_000)): Promise<{ worker: { name: string }; backends: { name: string; label: string }[] }> {
      return answer(await fetch(`${base}/api/worker/info`, { headers: auth, signal }));
    },

    /**
     * Long-polls for a job; undefined after `waitSeconds` without one. States the protocol
     * version this worker speaks, so a server of another major refuses it at once (422).
     */
    async claim(request: { backends?: readonly string[]; waitSeconds: number; uploadMode?: 'direct' | 'presigned'; workerId?: string }, signal?: AbortSignal): Promise<WorkerClaim | undefined> {
      const timeout = AbortSignal.timeout((request.waitSeconds + 30) * 1000);
      const response = await fetch(`${base}/api/worker/claim`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          protocol_version: WORKER_PROTOCOL_VERSION,
          wait_seconds: request.waitSeconds,
          ...(request.backends && request.backends.length > 0 ? { backends: request.backends } : {}),
          ...(request.uploadMode ? { upload_mode: request.uploadMode } : {}),
          ...(request.workerId ? { worker_id: request.workerId } : {}),
        }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (response.status === 204) return undefined;
      return answer<WorkerClaim>(response);
    },

    heartbeat(jobId: string, body: { lease_token: string; progress?: { step: number; total_steps: number }; preview_b64?: string }): Promise<HeartbeatAnswer> {
      return post(`/api/worker/jobs/${encodeURIComponent(jobId)}/heartbeat`, body, AbortSignal.timeout(30_000));
    },

    /** PUTs one asset's bytes to its upload URL; returns the staging key to report. */
    async upload(url: string, body: Buffer | (() => Readable), contentType: string): Promise<string> {
      const payload = Buffer.isBuffer(body) ? new Uint8Array(body) : (NodeReadable.toWeb(body()) as unknown as ReadableStream<Uint8Array>);
      const response = await fetch(url, {
        method: 'PUT',
        headers: { ...auth, 'content-type': contentType },
        body: payload,
        signal: AbortSignal.timeout(30 * 60_000),
        ...(Buffer.isBuffer(body) ? {} : { duplex: 'half' }),
      } as RequestInit);
      return (await answer<{ url: string }>(response)).url;
    },

    complete(jobId: string, body: Record<string, unknown>): Promise<CompletionAnswer> {
      return post(`/api/worker/jobs/${encodeURIComponent(jobId)}/complete`, { job_id: jobId, ...body }, AbortSignal.timeout(10 * 60_000));
    },

    /**
     * The completion with the outputs in it (multipart/form-data): the callback JSON as the
     * `result` part, then one file part per output — no upload before it. A file is streamed
     * from disk, never held in memory.
     */
    async completeWithParts(jobId: string, body: Record<string, unknown>, parts: readonly OutputPart[]): Promise<CompletionAnswer> {
      const form = new FormData();
      form.append('result', JSON.stringify({ job_id: jobId, ...body }));
      for (const part of parts) {
        const blob = part.data ? new Blob([part.data], { type: part.contentType }) : await openAsBlob(part.path!, { type: part.contentType });
        form.append(part.name, blob, part.filename);
      }
      const response = await fetch(`${base}/api/worker/jobs/${encodeURIComponent(jobId)}/complete`, { method: 'POST', headers: auth, body: form, signal: AbortSignal.timeout(30 * 60_000) });
      return answer<CompletionAnswer>(response);
    },

    /** Downloads an input image from its signed URL (no token). */
    async download(url: string): Promise<Buffer> {
      const response = await fetch(url, { signal: AbortSignal.timeout(5 * 60_000) });
      if (!response.ok) await answer(response);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

export type WorkerClient = ReturnType<typeof createWorkerClient>;
