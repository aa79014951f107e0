import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { UserRow } from '../../db/schema.js';
import type { UsersRepo } from '../../db/repos/users-repo.js';
import { AtelierError } from '../../errors/atelier-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user; set by the auth hook on every protected route. */
    user: UserRow | null;
  }
}

/** Reads `Authorization: Bearer <token>`; the token's hash is looked up, never the token. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** Adds the bearer-token check to every route of the plugin scope it is called in. */
export function requireUser(app: FastifyInstance, users: UsersRepo): void {
  app.addHook('onRequest', async (request) => {
    const token = bearerToken(request);
    if (!token) throw new AtelierError('unauthorized', 'Missing bearer token: send Authorization: Bearer <your API token>');
    const user = await users.findByToken(token);
    if (!user) throw new AtelierError('unauthorized', 'The API token is not valid');
    request.user = user;
  });
}

export function currentUser(request: FastifyRequest): UserRow {
  if (!request.user) throw new AtelierError('unauthorized');
  return request.user;
}

export function requireAdmin(request: FastifyRequest): UserRow {
  const user = currentUser(request);
  if (user.role !== 'admin') throw new AtelierError('forbidden', 'Only an admin may do this');
  return user;
}
