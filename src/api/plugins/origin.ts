import type { FastifyRequest } from 'fastify';

/** The origin clients reached us at: the configured public URL, else the request's host. */
export function requestOrigin(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/$/, '');
  return `${request.protocol}://${request.host}`;
}
