import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { CliError } from './cli-error.js';

/** The parts of a run view (GET /api/status/{runId}) the CLI reads. */
export interface RunView {
  readonly runId: string;
  readonly status: string;
  readonly seed: number;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly backend: { readonly label: string };
  readonly assets: readonly { readonly index: number; readonly url: string; readonly contentType: string; readonly expiresAt?: string | null }[];
}

/**
 * The Atelier HTTP API as the CLI uses it: JSON calls whose failures become one-line
 * CliErrors with the server's message and code, uploads, and the cancel endpoint.
 *
 * @example const client = createServerClient('http://127.0.0.1:8787', token); await client.call<RunView>(`/api/status/${id}`)
 */
export function createServerClient(server: string, token: string) {
  const auth = { authorization: `Bearer ${token}` };

  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const response = await reach(`${server}${path}`, { ...init, headers: { ...auth, ...init.headers } });
    const payload = (await response.json().catch(() => ({}))) as T & { code?: string; message?: string };
    if (!response.ok) throw new CliError(`${payload.message ?? `HTTP ${response.status}`}${payload.code ? ` (${payload.code})` : ''}`);
    return payload;
  }

  return {
    call,
    /** fetch with the token, for the event stream. */
    open: (path: string, init: RequestInit = {}) => reach(`${server}${path}`, { ...init, headers: { ...auth, ...init.headers } }),
    /** POSTs a JSON body. */
    post: <T>(path: string, body: unknown) => call<T>(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    /** Uploads an image file (POST /api/uploads, multipart) and returns its upload id. */
    async upload(file: string, option: string): Promise<string> {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (error) {
        throw new CliError(`Cannot read ${option} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)]), basename(file));
      const { uploadId } = await call<{ uploadId: string }>('/api/uploads', { method: 'POST', body: form });
      return uploadId;
    },
    /** Asks the server to cancel a run (POST /api/runs/{runId}/cancel); the run view after it. */
    cancel: (runId: string, signal?: AbortSignal) => call<RunView>(`/api/runs/${encodeURIComponent(runId)}/cancel`, { method: 'POST', ...(signal ? { signal } : {}) }),
  };
}

export type ServerClient = ReturnType<typeof createServerClient>;

/** fetch, with a failure to connect reported as such rather than as "fetch failed". */
export async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (init?.signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`Cannot reach the Atelier server at ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
}
