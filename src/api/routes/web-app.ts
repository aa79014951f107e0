import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/**
 * Paths of the playground's screens (web/src/router.tsx); each is answered with the app, so a
 * deep link or a reload opens that screen. Query strings (`/generate?run=…`) do not matter here.
 */
export const APP_PATHS = ['/', '/generate', '/history', '/admin', '/images/:id'];

// Media may come from presigned S3 URLs on another origin, so images and video may load from
// anywhere; scripts, styles and API calls only from this server.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: https: http:",
  "media-src 'self' blob: https: http:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
].join('; ');

/** Asset files the build also wrote as .br and .gz (the same list as web/vite.config.ts). */
const COMPRESSIBLE = /\.(?:js|css|svg|json|txt)$/;

/**
 * Serves the web playground built by Vite into dist/web (`npm run build`). Hashed assets are
 * cached for good and sent as the Brotli or gzip copy the build wrote beside them (web/vite.config.ts)
 * when the browser accepts one; the HTML is revalidated on every load (`no-cache`), so a new build
 * is picked up at once. Source maps are never served. Without a build, `/` explains how to make
 * one instead of failing.
 */
export function webAppRoutes(webRoot: string = defaultWebRoot()): FastifyPluginAsync {
  return async (app) => {
    const built = existsSync(join(webRoot, 'index.html'));
    if (!built) {
      app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(notBuiltPage()));
      return;
    }
    await app.register(fastifyStatic, {
      root: join(webRoot, 'assets'),
      prefix: '/assets/',
      index: false,
      immutable: true,
      maxAge: '365d',
      preCompressed: true,
      // Whether the compressed copy or the plain file is sent depends on Accept-Encoding, and
      // caches must know it.
      // (`path` is the file sent: the .br or .gz copy, or the plain one.)
      setHeaders: (res, path) => {
        if (COMPRESSIBLE.test(path.replace(/\.(?:br|gz)$/, ''))) res.setHeader('vary', 'Accept-Encoding');
      },
      allowedPath: (pathName) => !pathName.endsWith('.map'),
    });
    // sendFile would apply the assets' options above (a year, immutable) to the HTML too:
    // cacheControl: false leaves the no-cache header set here alone.
    const sendApp = (reply: FastifyReply) =>
      reply
        .header('cache-control', 'no-cache')
        .header('content-security-policy', CONTENT_SECURITY_POLICY)
        .header('x-content-type-options', 'nosniff')
        .sendFile('index.html', webRoot, { cacheControl: false });
    for (const path of APP_PATHS) app.get(path, { schema: { hide: true } }, async (_request, reply) => sendApp(reply));
  };
}

/** dist/web under the package root, found from this module whether it runs from src or dist. */
function defaultWebRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, 'dist', 'web');
}

function notBuiltPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Atelier</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style>
</head><body>
<h1>Atelier</h1>
<p>The generation server is running, but the web playground has not been built. Run <code>npm run build</code> (or start with <code>npm start</code>, which builds it) and reload.</p>
<p>API reference: <a href="/openapi.json"><code>/openapi.json</code></a></p>
</body></html>`;
}
