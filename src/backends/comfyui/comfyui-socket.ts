import WebSocket from 'ws';
import { RetryableError } from '../../errors/signals.js';
import type { PreviewImage } from '../backend.js';

/** What one prompt hears from the socket. */
export interface PromptListener {
  /** A text event `{type, data}` whose `data.prompt_id` is this prompt. */
  onEvent(type: string, data: Record<string, unknown>): void;
  onPreview(preview: PreviewImage): void;
  /** The socket dropped: events may have been lost, so the listener must poll history. */
  onDisconnect(): void;
}

/** A preview frame, with the prompt it belongs to when the server says (type 4). */
export interface PreviewFrame {
  readonly preview: PreviewImage;
  readonly promptId?: string;
}

const mimeOf = (value: unknown): PreviewImage['mime'] | undefined =>
  value === 'image/jpeg' || value === 'image/png' || value === 'image/webp' ? value : undefined;

/**
 * A binary frame: uint32 BE event type, then
 * - type 1 (PREVIEW_IMAGE): uint32 BE format (1 JPEG, 2 PNG), the image;
 * - type 4 (PREVIEW_IMAGE_WITH_METADATA, sent to clients that announce
 *   `supports_preview_metadata`): uint32 BE length, that many bytes of JSON metadata
 *   (`prompt_id`, `node_id`, `image_type`), the image.
 */
export function parsePreviewFrame(frame: Buffer): PreviewFrame | undefined {
  if (frame.length < 8) return undefined;
  const type = frame.readUInt32BE(0);
  if (type === 1) {
    const format = frame.readUInt32BE(4);
    const mime = format === 1 ? 'image/jpeg' : format === 2 ? 'image/png' : undefined;
    return mime === undefined ? undefined : { preview: { mime, data: Buffer.from(frame.subarray(8)) } };
  }
  if (type !== 4) return undefined;
  const length = frame.readUInt32BE(4);
  if (8 + length > frame.length) return undefined;
  let metadata: { prompt_id?: unknown; image_type?: unknown };
  try {
    metadata = JSON.parse(frame.toString('utf8', 8, 8 + length)) as typeof metadata;
  } catch {
    return undefined;
  }
  const mime = mimeOf(metadata.image_type);
  if (mime === undefined) return undefined;
  const preview = { mime, data: Buffer.from(frame.subarray(8 + length)) };
  return typeof metadata.prompt_id === 'string' ? { preview, promptId: metadata.prompt_id } : { preview };
}

const toBuffer = (raw: WebSocket.RawData): Buffer => (Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw));

const FINISHING = new Set(['execution_success', 'execution_error', 'execution_interrupted']);
/** Events about one prompt; ComfyUI before 2024-01 sends `progress` without its prompt_id. */
const PROMPT_EVENTS = new Set([...FINISHING, 'execution_start', 'execution_cached', 'executing', 'executed', 'progress', 'progress_state']);
/** Told to the server first thing, so newer ComfyUI tags each preview with its prompt (type 4). */
const FEATURE_FLAGS = JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } });
const MAX_RECONNECT_MS = 5_000;

/**
 * The one WebSocket of a backend instance (`/ws?clientId=`), shared by its jobs. ComfyUI sends
 * a job's events only to the client id that queued it, and runs one prompt at a time, so
 * events route by `prompt_id` and previews (which carry no id) go to the prompt that last
 * started executing, unless the server tags them (type 4). Events without a prompt id (old
 * servers' `progress`) go to that prompt too. A dropped socket is reopened with backoff while
 * any job listens.
 */
export class ComfySocket {
  private ws: WebSocket | undefined;
  private connecting: Promise<void> | undefined;
  private readonly listeners = new Map<string, PromptListener>();
  private running: string | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly url: string, private readonly connectMs: number, private readonly headers: Readonly<Record<string, string>> = {}) {}

  /** Resolves once the socket is open. @throws RetryableError when it cannot open within connectMs. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new RetryableError('The ComfyUI backend was closed', 'backend_failed'));
    if (this.ws?.readyState === WebSocket.OPEN) return Promise.resolve();
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Routes a prompt's events to `listener` until the returned function is called. */
  subscribe(promptId: string, listener: PromptListener): () => void {
    this.listeners.set(promptId, listener);
    return () => this.listeners.delete(promptId);
  }

  /** Closes the socket and stops reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = undefined;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once('close', () => resolve());
      ws.close();
      setTimeout(() => (ws.terminate(), resolve()), 1_000).unref();
    });
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { handshakeTimeout: this.connectMs, headers: { ...this.headers } });
      const fail = (reason: string) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new RetryableError(`Could not open ComfyUI's WebSocket ${this.url}: ${reason}`, 'backend_failed'));
      };
      const timer = setTimeout(() => fail(`no answer within ${this.connectMs} ms`), this.connectMs);
      ws.once('error', (error) => (clearTimeout(timer), fail(error.message)));
      ws.once('open', () => {
        clearTimeout(timer);
        ws.removeAllListeners('error');
        ws.on('error', () => {}); // 'close' follows and handles the drop
        ws.on('message', (raw, isBinary) => this.dispatch(toBuffer(raw), isBinary));
        ws.once('close', () => this.dropped(ws));
        if (this.closed) {
          ws.close();
          return reject(new RetryableError('The ComfyUI backend was closed', 'backend_failed'));
        }
        this.ws = ws;
        ws.send(FEATURE_FLAGS); // older servers ignore what clients send
        resolve();
      });
    });
  }

  private dispatch(frame: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const parsed = parsePreviewFrame(frame);
      const target = parsed?.promptId ?? this.running;
      if (parsed !== undefined && target !== undefined) this.listeners.get(target)?.onPreview(parsed.preview);
      return;
    }
    let message: { type?: unknown; data?: Record<string, unknown> };
    try {
      message = JSON.parse(frame.toString('utf8')) as typeof message;
    } catch {
      return; // not ours to judge; ComfyUI only sends JSON text frames
    }
    const { type, data } = message;
    if (typeof type !== 'string' || typeof data !== 'object' || data === null || !PROMPT_EVENTS.has(type)) return;
    const promptId = typeof data.prompt_id === 'string' ? data.prompt_id : this.running;
    if (promptId === undefined) return;
    if (type === 'execution_start' || type === 'progress' || (type === 'executing' && data.node !== null)) this.running = promptId;
    if (FINISHING.has(type) || (type === 'executing' && data.node === null)) {
      if (this.running === promptId) this.running = undefined;
    }
    this.listeners.get(promptId)?.onEvent(type, data);
  }

  private dropped(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    for (const listener of [...this.listeners.values()]) listener.onDisconnect();
    this.scheduleReconnect(100);
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.closed || this.listeners.size === 0) return; // the next job reconnects on demand
    this.reconnectTimer = setTimeout(() => {
      this.ready().catch(() => this.scheduleReconnect(Math.min(delayMs * 2, MAX_RECONNECT_MS)));
    }, delayMs);
    this.reconnectTimer.unref();
  }
}
