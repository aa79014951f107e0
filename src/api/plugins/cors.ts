import type { FastifyInstance } from 'fastify';
import cors from '@fastify/cors';

export interface CorsSettings {
  /** Origins (`scheme://host[:port]`, checked at start-up) or `*`; empty: no CORS at all. */
  readonly origins: readonly string[];
  readonly maxAgeSeconds: number;
}

/** Every method a route uses (the presigned upload is a PUT, deletes are DELETE). */
export const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * Request headers a browser page may send: the API's own, and those the official `openai`
 * client adds to every request (`X-Stainless-*`, `OpenAI-*`), so it runs unchanged in a
 * browser (`dangerouslyAllowBrowser`).
 */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Last-Event-ID',
  'Idempotency-Key',
  'Prefer',
  'OpenAI-Organization',
  'OpenAI-Project',
  'OpenAI-Beta',
  'X-Stainless-Lang',
  'X-Stainless-Package-Version',
  'X-Stainless-OS',
  'X-Stainless-Arch',
  'X-Stainless-Runtime',
  'X-Stainless-Runtime-Version',
  'X-Stainless-Retry-Count',
  'X-Stainless-Timeout',
  'X-Stainless-Helper-Method',
];

/**
 * Response headers a page may read beyond the CORS-safelisted ones: where a new run lives,
 * when to come back, what the server did with `Prefer` and `Idempotency-Key`, a download's
 * file name.
 */
export const CORS_EXPOSED_HEADERS = ['Location', 'Retry-After', 'Preference-Applied', 'Idempotent-Replayed', 'Content-Disposition'];

/**
 * Lets the pages of the configured origins call the API from a browser (`cors.origins`,
 * `CORS_ORIGINS`): preflights are answered before authentication, and every answer to a
 * listed origin — errors and 404s included — carries `Access-Control-Allow-Origin` with that
 * origin (and `Vary: Origin`). Any other origin, and a request with no `Origin`, gets no CORS
 * header at all; its preflight is a 404. `*` allows every origin, without credentials (the
 * browser would refuse them with `*`). Streams that write their own head (SSE) copy the
 * headers set here (status-stream.ts).
 *
 * @example await installCors(app, { origins: ['https://app.example.com'], maxAgeSeconds: 600 });
 */
export async function installCors(app: FastifyInstance, settings: CorsSettings): Promise<void> {
  if (settings.origins.length === 0) return;
  const any = settings.origins.includes('*');
  const listed = new Set(settings.origins);
  await app.register(cors, {
    // A function rather than the list: with a list, @fastify/cors still sends the other CORS
    // headers (and answers the preflight) to origins that are not listed.
    origin: (origin, callback) => callback(null, origin === undefined ? false : any ? '*' : listed.has(origin) ? origin : false),
    credentials: !any,
    methods: CORS_METHODS,
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: settings.maxAgeSeconds,
  });
}
