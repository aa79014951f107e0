import type { FastifyReply, FastifyRequest } from 'fastify';
import { AtelierError } from '../errors/atelier-error.js';
import type { ObjectInfo, Storage } from '../storage/storage.js';
import { parseRange } from './byte-range.js';

/**
 * Sends a stored object, honouring a single `Range` (206 with those bytes; 416 when it starts
 * past the end), as browsers need to play and seek a video, and download managers to resume.
 * Every answer says `Accept-Ranges: bytes`. `If-Range` asks for the range only if the file is
 * unchanged; with no validator to compare, the whole file is the safe answer.
 */
export async function sendStored(request: FastifyRequest, reply: FastifyReply, storage: Storage, info: Pick<ObjectInfo, 'key' | 'size'>): Promise<FastifyReply> {
  void reply.header('accept-ranges', 'bytes');
  const asked = request.headers['if-range'] === undefined ? request.headers.range : undefined;
  const wanted = parseRange(asked, info.size);
  if (wanted.kind === 'unsatisfiable') {
    void reply.header('content-range', `bytes */${info.size}`);
    throw new AtelierError('range_not_satisfiable', `The file has ${info.size} bytes; the range '${asked}' starts past its end`);
  }
  if (wanted.kind === 'full') return reply.header('content-length', info.size).send(await storage.get(info.key));
  const { start, end } = wanted.range;
  return reply
    .code(206)
    .header('content-range', `bytes ${start}-${end}/${info.size}`)
    .header('content-length', end - start + 1)
    .send(await storage.get(info.key, { range: wanted.range }));
}
