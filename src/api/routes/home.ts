import type { FastifyPluginAsync } from 'fastify';

/**
 * A plain landing page until the web playground lands: it says what is running and where
 * the API and its documentation are.
 */
export function homeRoutes(): FastifyPluginAsync {
  return async (app) => {
    app.get('/', { schema: { hide: true } }, async (request, reply) =>
      reply.type('text/html; charset=utf-8').send(page(`${request.protocol}://${request.host}`)),
    );
  };
}

function page(origin: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Atelier</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style>
</head><body>
<h1>Atelier</h1>
<p>The generation server is running. The models served by default use the <strong>preview renderer</strong>: a deterministic CPU renderer with no model weights.</p>
<ul>
<li>API reference: <a href="/openapi.json"><code>/openapi.json</code></a></li>
<li>Try it: <code>curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"prompt":"a lighthouse at dusk"}' ${origin}/api/generate/text-to-image</code></li>
</ul>
</body></html>`;
}
