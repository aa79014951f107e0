import type { FastifyPluginAsync } from 'fastify';
import { AtelierError } from '../../errors/atelier-error.js';
import { sendStored } from '../send-stored.js';
import { parseSignedMediaQuery } from '../../storage/disk/disk-storage.js';
import { contentTypeForKey, isValidKey } from '../../storage/keys.js';
import type { Storage } from '../../storage/storage.js';
import type { UrlSigner } from '../../storage/url-signer.js';

/**
 * `GET /media/{key}?expires=…&signature=…`: serves disk-stored media to whoever holds a
 * valid signed URL (no token, so <img src> works). Anything else is a 403 that says nothing
 * about whether the object exists. A `Range` is honoured (send-stored.ts).
 */
export function mediaRoutes(storage: Storage, signer: UrlSigner): FastifyPluginAsync {
  return async (app) => {
    app.get('/media/*', { schema: { hide: true } }, async (request, reply) => {
      const key = (request.params as { '*': string })['*'];
      const query = parseSignedMediaQuery(request.query);
      if (!isValidKey(key) || !query || !signer.verify(key, query.expires, query.signature, undefined, query.downloadName)) {
        throw new AtelierError('signature_invalid');
      }
      const info = await storage.stat(key);
      if (!info) throw new AtelierError('not_found', 'The object no longer exists');
      const maxAge = Math.max(0, Number(query.expires) - Math.floor(Date.now() / 1000));
      void reply
        .type(contentTypeForKey(key))
        .header('cache-control', `private, max-age=${maxAge}, immutable`)
        .header('x-content-type-options', 'nosniff');
      if (query.downloadName) {
        const safe = query.downloadName.replace(/[^A-Za-z0-9._-]/g, '_');
        void reply.header('content-disposition', `attachment; filename="${safe}"`);
      }
      return sendStored(request, reply, storage, info);
    });
  };
}
