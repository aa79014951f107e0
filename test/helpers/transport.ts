/**
 * How test clients reach a server: over a real socket with `fetch`, or in process through
 * Fastify's `app.inject()` (no port opened). Both answer with the same {@link ApiResponse},
 * so a test reads the same whichever way its server was started.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';

/** The origin injected requests carry (their Host); never resolved, since nothing listens there. */
export const INJECT_ORIGIN = 'http://atelier.inject';

/** A parsed HTTP response: status, headers, the raw text and the JSON body (undefined when not JSON). */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
  /** The body as sent (images, videos). */
  readonly bytes: Buffer;
}

export interface HttpRequest {
  readonly method: string;
  /** A path on the server (`/api/models?x=1`) or an absolute URL. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** FormData is sent as multipart/form-data, encoded exactly as fetch encodes it. */
  readonly body?: string | Uint8Array | FormData;
}

export interface Transport {
  /** Sends a request and reads the whole response. */
  send(request: HttpRequest): Promise<ApiResponse>;
  /** Sends a request and returns the response unread, as a fetch `Response` (SSE streams). */
  open(request: HttpRequest): Promise<Response>;
}

/** Parses a fully read body the way a fetch `Response` decodes it. */
function toApiResponse(status: number, headers: Headers, bytes: Buffer): ApiResponse {
  const text = new TextDecoder().decode(bytes);
  let body: any;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status, headers, text, body, bytes };
}

/** Reads a fetch response fully into an {@link ApiResponse}. */
export async function readResponse(response: Response): Promise<ApiResponse> {
  return toApiResponse(response.status, response.headers, Buffer.from(await response.arrayBuffer()));
}

function fetchInit(request: HttpRequest): RequestInit {
  const init: RequestInit = { method: request.method, headers: { ...request.headers } };
  if (request.body !== undefined) init.body = request.body;
  return init;
}

/** Requests over the network: paths are resolved against `baseUrl`, absolute URLs go as they are. */
export function fetchTransport(baseUrl: string): Transport {
  const resolve = (url: string) => new URL(url, baseUrl).toString();
  return {
    async send(request) {
      return readResponse(await fetch(resolve(request.url), fetchInit(request)));
    },
    open(request) {
      return fetch(resolve(request.url), fetchInit(request));
    },
  };
}

/**
 * Requests through `app.inject()`. The server believes it is reached at `origin` (the Host
 * header), so the URLs it hands out (media, presigned uploads) start with it; such URLs are
 * injected too, while any other absolute URL (an S3 endpoint, a fixture server) is fetched.
 */
export function injectTransport(app: FastifyInstance, origin: string): Transport {
  const host = new URL(origin).host;
  const network = fetchTransport(origin);

  /** The path on this server, or undefined when the URL points somewhere else. */
  function localPath(url: string): string | undefined {
    if (url.startsWith('/')) return url;
    const parsed = new URL(url);
    return parsed.origin === new URL(origin).origin ? `${parsed.pathname}${parsed.search}` : undefined;
  }

  async function options(request: HttpRequest, path: string): Promise<InjectOptions> {
    const headers: Record<string, string> = { host, ...request.headers };
    let payload: string | Buffer | undefined;
    if (request.body instanceof FormData) {
      // Response encodes FormData exactly as fetch would send it, boundary included.
      const encoded = new Response(request.body);
      payload = Buffer.from(await encoded.arrayBuffer());
      headers['content-type'] = encoded.headers.get('content-type')!;
    } else if (request.body instanceof Uint8Array) {
      payload = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    } else {
      payload = request.body;
    }
    return { method: request.method as InjectOptions['method'], url: path, headers, ...(payload === undefined ? {} : { payload }) };
  }

  return {
    async send(request) {
      const path = localPath(request.url);
      if (path === undefined) return network.send(request);
      const res = await app.inject(await options(request, path));
      return toApiResponse(res.statusCode, toHeaders(res), res.rawPayload);
    },
    async open(request) {
      const path = localPath(request.url);
      if (path === undefined) return network.open(request);
      const res = await app.inject({ ...(await options(request, path)), payloadAsStream: true });
      const nullBody = [101, 204, 205, 304].includes(res.statusCode);
      const body = nullBody ? null : (Readable.toWeb(res.stream()) as ReadableStream<Uint8Array>);
      return new Response(body, { status: res.statusCode, headers: toHeaders(res) });
    },
  };
}

function toHeaders(res: LightMyRequestResponse): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, String(one));
  }
  return headers;
}
