import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { fileKey, pump, queueTuple, send, type FakeState, type FakeVersion, type Faults, type QueueItem } from './fake-executor.js';

export type { FakeVersion } from './fake-executor.js';
import { forcedRejection, randomSid, validatePrompt, type Graph } from './fake-graph.js';

/** A POST /prompt the fake received (accepted or not). */
export interface ReceivedPrompt {
  readonly prompt_id: string | undefined;
  readonly client_id: string | undefined;
  readonly prompt: Graph;
}

/** A POST /upload/image the fake received. */
export interface ReceivedUpload {
  readonly name: string;
  readonly type: string;
  readonly subfolder: string;
  readonly overwrite: string | undefined;
  readonly data: Buffer;
}

/**
 * A real HTTP + WebSocket server speaking ComfyUI's API (shared fixtures PROTOCOLS.md §1):
 * every route bare and under `/api`, validation with ComfyUI's 400 bodies, a one-at-a-time
 * queue, history written only when a prompt ends, /view, /upload/image, /interrupt, /queue
 * delete, and socket events per client id. Outputs are solid images whose colour comes from
 * the bound seed (`fakeColour`), so tests can check bindings from pixels.
 */
export interface FakeComfyUI {
  readonly url: string;
  readonly prompts: ReceivedPrompt[];
  readonly uploads: ReceivedUpload[];
  readonly interrupts: Record<string, unknown>[];
  readonly queueDeletes: string[];
  /** "METHOD /path" of every HTTP request, `/api` prefix kept. */
  readonly requests: string[];
  /** WebSocket connections opened so far. */
  readonly connections: () => number;
  failNextPrompt(status?: number): void;
  /** The next POST /prompt is refused with ComfyUI's 400 validation body (a value not in a list). */
  rejectNextPrompt(): void;
  /** Resets every connection (HTTP keep-alive and WebSockets) but keeps listening, as a proxy would. */
  dropConnections(): void;
  /** Delays every HTTP answer by `ms` until called with 0. */
  slow(ms: number): void;
  dropSocketMidJob(): void;
  malformedHistory(kind?: NonNullable<Faults['malformedHistory']>): void;
  nodeError(): void;
  neverFinish(): void;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** How the fake behaves; every field has a default. */
export interface FakeComfyOptions {
  /** Paces sampler steps; default 10 ms. */
  readonly stepDelayMs?: number;
  /** Behaves like ComfyUI before client-chosen prompt ids (implied by version `2023`). */
  readonly ignoreClientPromptId?: boolean;
  /** Which ComfyUI to be (FakeVersion); default `current`. */
  readonly version?: FakeVersion;
  /** Side of the preview frames; above 64 one is sent every step, like SaveImageWebsocket. Default 64. */
  readonly previewSide?: number;
  /** Every request must carry these headers (ComfyUI behind an authenticating proxy), or it is a 401. */
  readonly requireHeaders?: Readonly<Record<string, string>>;
}

/** Starts the fake on a random loopback port. */
export async function startFakeComfyUI(opts: FakeComfyOptions = {}): Promise<FakeComfyUI> {
  const version = opts.version ?? 'current';
  const ignoreClientPromptId = opts.ignoreClientPromptId ?? version === '2023';
  const authorized = (req: IncomingMessage) => Object.entries(opts.requireHeaders ?? {}).every(([name, value]) => req.headers[name.toLowerCase()] === value);
  const state: FakeState = {
    version, previewSide: opts.previewSide ?? 64, previewMetadata: new Set(),
    stepDelayMs: opts.stepDelayMs ?? 10, files: new Map(), history: new Map(), pending: [], running: undefined, currentNode: undefined,
    sockets: new Map(), faults: { slowMs: 0, dropSocketMidJob: false, nodeError: false, neverFinish: false }, closed: false, counter: 0,
  };
  const received = { prompts: [] as ReceivedPrompt[], uploads: [] as ReceivedUpload[], interrupts: [] as Record<string, unknown>[], queueDeletes: [] as string[], requests: [] as string[] };
  let connections = 0;
  let rejectNext = false;
  let number = 0;
  const inputNames = () => new Set([...state.files.keys()].filter((k) => k.startsWith('input/')).map((k) => k.slice('input/'.length).replace(/^\//, '')));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    received.requests.push(`${req.method} ${url.pathname}`);
    if (!authorized(req)) return void res.writeHead(401, { 'content-type': 'text/plain' }).end('401: Unauthorized');
    const path = url.pathname.replace(/^\/api(?=\/)/, '');
    const body = await readBody(req);
    if (state.faults.slowMs > 0) await delay(state.faults.slowMs);
    const parsed = () => (body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {});
    if (req.method === 'GET' && path === '/system_stats') return json(res, 200, { system: { os: 'posix', comfyui_version: 'fake', python_version: '3.12', embedded_python: false, argv: ['main.py'] }, devices: [{ name: 'cpu', type: 'cpu', index: null, vram_total: 0, vram_free: 0 }] });
    if (req.method === 'GET' && path === '/prompt') return json(res, 200, { exec_info: { queue_remaining: state.pending.length + (state.running ? 1 : 0) } });
    if (req.method === 'POST' && path === '/prompt') {
      const fail = state.faults.failNextPrompt;
      state.faults.failNextPrompt = undefined;
      if (fail !== undefined) return void res.writeHead(fail, { 'content-type': 'text/plain' }).end(`${fail} Internal Server Error\n\nServer got itself in trouble`);
      const request = parsed();
      received.prompts.push({ prompt_id: request.prompt_id as string | undefined, client_id: request.client_id as string | undefined, prompt: request.prompt as Graph });
      const forced = rejectNext;
      rejectNext = false;
      const rejection = forced ? forcedRejection() : validatePrompt(request, inputNames());
      if (rejection !== undefined) return json(res, 400, rejection);
      const item: QueueItem = { number: (number += 1), id: (ignoreClientPromptId ? undefined : (request.prompt_id as string | undefined)) ?? crypto.randomUUID(), graph: request.prompt as Graph, clientId: request.client_id as string | undefined, interrupted: false };
      state.pending.push(item);
      json(res, 200, { prompt_id: item.id, number: item.number, node_errors: {} });
      return void pump(state);
    }
    if (req.method === 'GET' && path === '/queue') return json(res, 200, { queue_running: state.running ? [queueTuple(state.running)] : [], queue_pending: state.pending.map(queueTuple) });
    if (req.method === 'POST' && path === '/queue') {
      const { delete: ids, clear } = parsed() as { delete?: string[]; clear?: boolean };
      for (const id of ids ?? []) received.queueDeletes.push(id);
      const drop = (item: QueueItem) => clear === true || (ids ?? []).includes(item.id);
      state.pending.splice(0, state.pending.length, ...state.pending.filter((item) => !drop(item)));
      return void res.writeHead(200).end();
    }
    if (req.method === 'POST' && path === '/interrupt') {
      const request = parsed();
      received.interrupts.push(request);
      const running = state.running;
      // Before 2025-09 the prompt_id is ignored: whatever runs is stopped, whoever queued it.
      const targeted = version === 'current' && typeof request.prompt_id === 'string';
      if (running && (!targeted || request.prompt_id === running.id)) running.interrupted = true;
      return void res.writeHead(200).end();
    }
    const historyMatch = /^\/history\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && historyMatch) {
      const id = decodeURIComponent(historyMatch[1]!);
      const entry = state.history.get(id);
      return json(res, 200, entry === undefined ? {} : { [id]: entry });
    }
    if (req.method === 'GET' && path === '/history') return json(res, 200, Object.fromEntries(state.history));
    if (req.method === 'GET' && path === '/view') {
      let filename = url.searchParams.get('filename') ?? '';
      let type = url.searchParams.get('type') || 'output';
      const annotated = /^(.*) \[(output|input|temp)\]$/.exec(filename);
      if (annotated) [filename, type] = [annotated[1]!, annotated[2]!];
      const subfolder = url.searchParams.get('subfolder') ?? '';
      if (filename === '' || filename.includes('..') || filename.startsWith('/')) return void res.writeHead(400).end();
      if (subfolder.includes('..') || subfolder.startsWith('/')) return void res.writeHead(403).end();
      const bytes = state.files.get(fileKey(type, subfolder, filename));
      if (bytes === undefined) return void res.writeHead(404).end();
      const mime = filename.endsWith('.mp4') ? 'video/mp4' : 'image/png';
      return void res.writeHead(200, { 'content-type': mime, 'content-disposition': `filename="${filename}"` }).end(bytes);
    }
    if (req.method === 'POST' && path === '/upload/image') {
      const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
      const file = form.get('image');
      if (!(file instanceof Blob)) return void res.writeHead(400).end();
      const data = Buffer.from(await file.arrayBuffer());
      const type = (form.get('type') as string | null) || 'input';
      const subfolder = (form.get('subfolder') as string | null) ?? '';
      const overwrite = (form.get('overwrite') as string | null) ?? undefined;
      let name = (file as File).name;
      const existing = state.files.get(fileKey(type, subfolder, name));
      if (existing && overwrite !== 'true' && overwrite !== '1' && !existing.equals(data)) {
        const dot = name.lastIndexOf('.');
        for (let i = 1; state.files.has(fileKey(type, subfolder, name)); i += 1) name = `${(file as File).name.slice(0, dot)} (${i})${(file as File).name.slice(dot)}`;
      }
      state.files.set(fileKey(type, subfolder, name), data);
      received.uploads.push({ name, type, subfolder, overwrite, data });
      return json(res, 200, { name, subfolder, type });
    }
    res.writeHead(404).end();
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    if ((url.pathname !== '/ws' && url.pathname !== '/api/ws') || !authorized(req)) return void socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      connections += 1;
      const sid = url.searchParams.get('clientId') || randomSid();
      state.sockets.get(sid)?.terminate(); // ComfyUI keeps one socket per sid
      state.sockets.set(sid, ws);
      ws.on('close', () => state.sockets.get(sid) === ws && state.sockets.delete(sid));
      let first = true;
      ws.on('message', (data, isBinary) => {
        // server.py reads feature flags from a client's first message only (newer versions).
        if (first && !isBinary && version === 'current') {
          try {
            const message = JSON.parse(String(data)) as { type?: string; data?: Record<string, unknown> };
            if (message.type === 'feature_flags') {
              if (message.data?.supports_preview_metadata === true) state.previewMetadata.add(sid);
              send(state, sid, 'feature_flags', { supports_preview_metadata: true, max_upload_size: 104857600 });
            }
          } catch { /* ComfyUI logs and carries on */ }
        }
        first = false;
      });
      send(state, sid, 'status', { status: { exec_info: { queue_remaining: state.pending.length + (state.running ? 1 : 0) } }, sid });
      const running = state.running;
      if (running?.clientId === sid && state.currentNode) send(state, sid, 'executing', { node: state.currentNode, display_node: state.currentNode, prompt_id: running.id });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    ...received,
    connections: () => connections,
    failNextPrompt: (status = 500) => void (state.faults.failNextPrompt = status),
    rejectNextPrompt: () => void (rejectNext = true),
    dropConnections() {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
    },
    slow: (ms) => void (state.faults.slowMs = ms),
    dropSocketMidJob: () => void (state.faults.dropSocketMidJob = true),
    malformedHistory: (kind = 'no-images') => void (state.faults.malformedHistory = kind),
    nodeError: () => void (state.faults.nodeError = true),
    neverFinish: () => void (state.faults.neverFinish = true),
    async close() {
      state.closed = true;
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
