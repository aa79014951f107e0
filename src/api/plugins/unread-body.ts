import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { AtelierError } from '../../errors/atelier-error.js';

export interface UnreadBodyOptions {
  /** Body bytes read and thrown away after an early answer before the connection is cut. */
  readonly maxDrainBytes: number;
  /** How long the rest of a body may take to arrive after an early answer. */
  readonly maxDrainMs: number;
}

/** 64 MiB and 30 s: any body a client could mean for us, at loopback or LAN speed. */
export const DEFAULT_UNREAD_BODY_OPTIONS: UnreadBodyOptions = Object.freeze({ maxDrainBytes: 64 * 1024 * 1024, maxDrainMs: 30_000 });

const kAwaitingContinue = Symbol('atelier.awaitingContinue');
type MaybeAwaiting = IncomingMessage & { [kAwaitingContinue]?: boolean };

/**
 * Answers that come before the request body has arrived (413 for a declared length over the
 * limit, 401, 429…) must reach clients that are still sending it (issue #14 §7).
 *
 * Fastify answers such a request with `Connection: close`, and Node closes the socket as soon
 * as the answer is written, while the client is still sending: the unread bytes make the
 * kernel reset the connection, and `fetch`, `node:http` or curl report EPIPE/ECONNRESET
 * instead of the answer. So:
 * - `Expect: 100-continue` is honoured: the server says "100 Continue" only when the route is
 *   about to read the body and the declared length is within its limit; otherwise it answers
 *   at once with `Connection: close`, and the client never sends the body;
 * - after any other early answer the rest of the body is read and dropped (at most
 *   `maxDrainBytes` within `maxDrainMs`; past either the socket is cut), so the client
 *   finishes sending and reads the answer. The connection is kept when the client wants it
 *   kept; when it is closed anyway (`Connection: close` from the client, HTTP/1.0), the server
 *   closes its sending side after the answer and the socket only once the body has been read
 *   (a "lingering close").
 */
export function handleUnreadBodies(app: FastifyInstance, options: UnreadBodyOptions = DEFAULT_UNREAD_BODY_OPTIONS): void {
  // With a listener, Node no longer answers "100 Continue" by itself; the request is handed on
  // and the continue is sent from preParsing below, once the route and its limit are known.
  app.server.on('checkContinue', (req: MaybeAwaiting, res: ServerResponse) => {
    req[kAwaitingContinue] = true;
    app.server.emit('request', req, res);
  });

  app.addHook('preParsing', async (request, reply, payload) => {
    const raw = request.raw as MaybeAwaiting;
    if (!raw[kAwaitingContinue]) return payload;
    const declared = Number(request.headers['content-length']);
    const limit = request.routeOptions.bodyLimit;
    if (limit !== undefined && declared > limit) {
      throw new AtelierError('body_too_large', `Expected a body of at most ${limit} bytes but the request declares ${declared}`);
    }
    raw[kAwaitingContinue] = false;
    reply.raw.writeContinue();
    return payload;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const raw = request.raw as MaybeAwaiting;
    // inject() requests have no `complete`: they are whole by construction.
    if (raw.complete !== false || raw.destroyed || !raw.socket) return payload;
    // The client holds the body back until told to continue, which it never will be.
    if (raw[kAwaitingContinue]) void reply.header('connection', 'close');
    else void reply.removeHeader('connection');
    lingerOnClose(raw.socket);
    reply.raw.once('finish', () => drain(raw, options));
    return payload;
  });
}

const kLingering = Symbol('atelier.lingering');
type LingeringSocket = Socket & { [kLingering]?: boolean };

/**
 * Node ends a connection after its last answer with `destroySoon()`: end the sending side,
 * then destroy the socket — with the client's bytes still unread. This one ends the sending
 * side only; {@link drain} destroys the socket once the body has been read.
 */
function lingerOnClose(socket: LingeringSocket): void {
  socket.destroySoon = function lingeringDestroySoon(this: LingeringSocket) {
    this[kLingering] = true;
    if (this.writable) this.end();
    return this;
  } as Socket['destroySoon'];
}

/** Reads what is left of the request and drops it; cuts the connection past the bounds. */
function drain(raw: IncomingMessage, options: UnreadBodyOptions): void {
  const socket = raw.socket as LingeringSocket;
  let bytes = 0;
  const cut = () => {
    clearTimeout(timer);
    socket.destroy();
  };
  const done = () => {
    clearTimeout(timer);
    // Later answers on a kept connection close it the usual way.
    Reflect.deleteProperty(socket, 'destroySoon');
    // A lingering close: the body is read, so closing now resets nothing.
    if (socket[kLingering] && !socket.destroyed) {
      if (socket.writableFinished) socket.destroy();
      else socket.once('finish', () => socket.destroy());
    }
  };
  const timer = setTimeout(cut, options.maxDrainMs);
  timer.unref();
  if (raw.complete || raw.destroyed) return done();
  raw.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > options.maxDrainBytes) cut();
  });
  raw.once('end', done);
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}
