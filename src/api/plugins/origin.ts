import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AtelierError, describeValue } from '../../errors/atelier-error.js';

/** host[:port]: a name or IPv4 address, or a bracketed IPv6 address — no path, query, user info or space. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::\d{1,5})?$/;

/** The origin clients reached us at: the configured public URL, else the request's host. */
export function requestOrigin(request: FastifyRequest, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/$/, '');
  // An HTTP/1.0 request may name no host: the address it reached stands in.
  if (request.headers.host === undefined) return `${request.protocol}://${socketHost(request)}`;
  return `${request.protocol}://${request.host}`;
}

/**
 * Without a configured public URL, links (media, uploads, status) are built from the Host
 * header, so one that is not host[:port] — `a b`, `evil.example/x?y=`, an empty one — is a
 * 422 `invalid_parameter` naming Host (RFC 9112 §3.2 asks for a 400; Atelier's header
 * errors, like Prefer's, are 422s). Checked before anything runs: it used to be a 500 once
 * the links were built, after a submission had already been recorded.
 */
export function refuseMalformedHost(app: FastifyInstance, publicUrl: string | undefined): void {
  if (publicUrl) return;
  app.addHook('onRequest', (request, _reply, done) => {
    const host = request.headers.host;
    if (host === undefined || HOST.test(host)) return done();
    done(new AtelierError('invalid_parameter', `Expected host[:port] for Host but received ${describeValue(host)}`, { field: 'Host' }));
  });
}

function socketHost(request: FastifyRequest): string {
  const { localAddress, localPort } = request.socket;
  if (!localAddress) return 'localhost';
  const address = localAddress.includes(':') ? `[${localAddress}]` : localAddress;
  return localPort ? `${address}:${localPort}` : address;
}
