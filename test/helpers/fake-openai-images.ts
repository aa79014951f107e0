/**
 * A fake OpenAI Images API on a real socket (PROTOCOLS §3): POST /v1/images/generations
 * (JSON) and /v1/images/edits (multipart), GET /v1/models, Bearer auth, OpenAI's per-model
 * rules (sizes, n, `response_format` refused by GPT image models, url by default for DALL·E)
 * and its `{error: {message, type, param, code}}` shape. Generated images are flat PNGs
 * coloured by a running counter; edits come back in the colour of the uploaded image.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { openAIModelDefaults } from '../../src/backends/openai/openai-model-defaults.js';
import { colourPng, readBody, readColourImage } from './seed-png.js';

export interface RecordedOpenAIRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  /** The JSON body, or the multipart text fields. */
  readonly fields: Record<string, unknown>;
  readonly files: { field: string; filename: string; type: string; bytes: Buffer }[];
}

export type OpenAIFault =
  | { readonly kind: 'status'; readonly status: number; readonly error?: Record<string, unknown>; readonly headers?: Record<string, string> }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'malformed'; readonly what: 'json' | 'no-data' | 'not-image' | 'short' }
  | { readonly kind: 'url' };

export interface FakeOpenAIImages {
  /** Base URL with `/v1`, as the SDK's `baseURL` takes it. */
  readonly url: string;
  readonly requests: RecordedOpenAIRequest[];
  fail(fault: OpenAIFault): void;
  /** Resets every open connection (requests in flight included) but keeps listening; returns how many. */
  dropConnections(): number;
  /** Destroys every open connection and stops listening (also a crash); safe to call twice. */
  close(): Promise<void>;
}

const apiError = (message: string, param: string | null, code: string | null, type = 'invalid_request_error') => ({ error: { message, type, param, code } });

/** Starts the fake; with `apiKey`, every /v1 route needs `Authorization: Bearer <apiKey>`. */
export async function startFakeOpenAIImages(options: { apiKey?: string } = {}): Promise<FakeOpenAIImages> {
  const requests: RecordedOpenAIRequest[] = [];
  const faults: OpenAIFault[] = [];
  const files = new Map<string, Buffer>();
  let counter = 0;
  let origin = '';

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${requests.length}`, ...headers }).end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  /** OpenAI's checks, in the order the real API reports them; undefined when the request is valid. */
  function validate(f: Record<string, unknown>): ReturnType<typeof apiError> | undefined {
    const model = typeof f.model === 'string' ? f.model : 'dall-e-2';
    const gptImage = model.startsWith('gpt-image');
    if (typeof f.prompt !== 'string' || f.prompt === '') return apiError("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
    if (gptImage && f.response_format !== undefined) return apiError("Unknown parameter: 'response_format'.", 'response_format', 'unknown_parameter');
    const n = Number(f.n ?? 1);
    if (!Number.isInteger(n) || n < 1 || n > 10 || (model === 'dall-e-3' && n !== 1)) return apiError(`Invalid 'n': ${String(f.n)}.`, 'n', 'invalid_value');
    const sizes = openAIModelDefaults(model).sizes;
    if (f.size !== undefined && sizes && !sizes.includes(String(f.size))) {
      return apiError(`Invalid value: '${String(f.size)}'. Supported values are: ${sizes.map((s) => `'${s}'`).join(', ')}.`, 'size', 'invalid_value');
    }
    if (f.prompt.includes('forbidden')) return apiError('Your request was rejected by the safety system.', null, gptImage ? 'moderation_blocked' : 'content_policy_violation');
    return undefined;
  }

  async function images(req: http.IncomingMessage, res: http.ServerResponse, record: RecordedOpenAIRequest): Promise<void> {
    const fault = faults.shift();
    if (fault?.kind === 'status') return send(res, fault.status, fault.error ? { error: fault.error } : apiError('The server had an error while processing your request.', null, null, 'server_error'), fault.headers);
    if (fault?.kind === 'drop') return void req.socket.destroy();
    const invalid = validate(record.fields);
    if (invalid) return send(res, 400, invalid);
    if (fault?.kind === 'slow') await sleep(fault.ms);
    const f = record.fields;
    const model = String(f.model ?? 'dall-e-2');
    const [width, height] = String(f.size ?? '1024x1024').split('x').map(Number) as [number, number];
    const upload = record.files[0] ? (await readColourImage(record.files[0].bytes)).colour : undefined;
    const colourOf = () => (upload ? upload[0] | (upload[1] << 8) | (upload[2] << 16) : (counter += 1));
    const pngs = await Promise.all(Array.from({ length: Number(f.n ?? 1) }, () => colourPng(colourOf(), width, height)));
    const asUrl = fault?.kind === 'url' || (!model.startsWith('gpt-image') && f.response_format !== 'b64_json');
    const data = pngs.map((png, i) => {
      if (fault?.kind === 'malformed' && fault.what === 'not-image') return { b64_json: Buffer.from('<html>').toString('base64') };
      if (!asUrl) return { b64_json: png.toString('base64'), ...(model === 'dall-e-3' ? { revised_prompt: f.prompt } : {}) };
      const name = `img-${requests.length}-${i}.png`;
      files.set(name, png);
      return { url: `${origin}/files/${name}` };
    });
    if (fault?.kind === 'malformed' && fault.what === 'json') return send(res, 200, '{"created": 1, "data": [');
    if (fault?.kind === 'malformed' && fault.what === 'no-data') return send(res, 200, { created: 1 });
    send(res, 200, { created: Math.floor(Date.now() / 1000), data: fault?.kind === 'malformed' && fault.what === 'short' ? data.slice(1) : data });
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = await readBody(req);
      const contentType = req.headers['content-type'];
      const record: RecordedOpenAIRequest = { method: req.method ?? 'GET', path: url.pathname, authorization: req.headers.authorization, contentType, fields: {}, files: [] };
      if (contentType?.startsWith('multipart/form-data')) {
        const form = await new Request(`http://fake${url.pathname}`, { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
        for (const [field, value] of form.entries()) {
          if (typeof value === 'string') record.fields[field] = value;
          else record.files.push({ field, filename: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
        }
      } else if (raw.length > 0) {
        try {
          Object.assign(record.fields, JSON.parse(raw.toString('utf8')));
        } catch {
          return send(res, 400, apiError('We could not parse the JSON body of your request.', null, null));
        }
      }
      requests.push(record);
      // Signed image links (response_format url): no API key, like OpenAI's blob storage.
      if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
        const file = files.get(url.pathname.slice('/files/'.length));
        return file ? void res.writeHead(200, { 'content-type': 'image/png' }).end(file) : send(res, 404, apiError('Not found', null, null));
      }
      if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
        return send(res, 401, apiError('Incorrect API key provided: sk-wr***ng.', null, 'invalid_api_key'));
      }
      const route = `${req.method} ${url.pathname}`;
      if (route === 'POST /v1/images/generations') return images(req, res, record);
      if (route === 'POST /v1/images/edits') {
        if (!record.files.some((file) => file.field === 'image' || file.field === 'image[]')) return send(res, 400, apiError("Missing required parameter: 'image'.", 'image', 'missing_required_parameter'));
        return images(req, res, record);
      }
      if (route === 'GET /v1/models') return send(res, 200, { object: 'list', data: [{ id: 'gpt-image-1', object: 'model', created: 0, owned_by: 'system' }] });
      send(res, 404, apiError(`Invalid URL (${req.method} ${url.pathname})`, null, null));
    })().catch((error: unknown) => send(res, 500, apiError(String(error), null, null, 'server_error')));
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/v1`,
    requests,
    fail: (fault) => void faults.push(fault),
    dropConnections() {
      const open = [...sockets].filter((socket) => !socket.destroyed);
      for (const socket of open) socket.resetAndDestroy();
      return open.length;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
