import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../app-deps.js';
import { requireAdmin } from '../plugins/auth.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { addUser } from '../../service/add-user.js';
import { issueToken, removeUser, userById } from '../../service/manage-users.js';

const Role = Type.Union([Type.Literal('user'), Type.Literal('admin')]);

const UserListView = Type.Object({
  users: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      role: Role,
      createdAt: Type.String(),
      tokens: Type.Integer({ description: 'API tokens the user holds' }),
    }),
  ),
});

const NewTokenView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  token: Type.String({ description: 'Shown once; only its hash is stored' }),
  revokedTokens: Type.Integer({ description: 'Tokens deleted by revoke_others' }),
});

/** Admin-only user management: list, create, remove, and issue or rotate tokens. */
export function adminRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/admin/users',
      {
        schema: {
          tags: ['admin'],
          summary: 'The users (removed ones left out), oldest first',
          security: [{ bearerAuth: [] }],
          response: { 200: UserListView, ...errorResponses },
        },
      },
      async (request) => {
        requireAdmin(request);
        const users = await deps.users.list();
        return { users: users.map((u) => ({ id: u.id, name: u.name, role: u.role, createdAt: new Date(Number(u.created_at)).toISOString(), tokens: u.tokens })) };
      },
    );

    app.post(
      '/api/admin/users',
      {
        schema: {
          tags: ['admin'],
          summary: 'Create a user and its first API token',
          description: 'The token is shown once; only its hash is stored.',
          security: [{ bearerAuth: [] }],
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\s].*$' }),
              role: Type.Optional(Role),
            },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), token: Type.String() }), ...errorResponses },
        },
      },
      async (request, reply) => {
        requireAdmin(request);
        const created = await addUser(deps.users, request.body.name, request.body.role ?? 'user');
        return reply.code(201).send(created);
      },
    );

    app.delete(
      '/api/admin/users/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Remove a user: every token it has is revoked at once; its runs stay',
          description: 'Tokens are checked against the database on every request, so the next request with one is a 401 on every node. The last admin cannot be removed (409 last_admin).',
          security: [{ bearerAuth: [] }],
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        requireAdmin(request);
        await removeUser(deps.users, await userById(deps.users, request.params.id));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/admin/users/:id/tokens',
      {
        schema: {
          tags: ['admin'],
          summary: 'Issue a new API token for a user (shown once); ?revoke_others=true rotates',
          description: 'With revoke_others=true every other token of the user is deleted in the same transaction: the next request with one is a 401.',
          security: [{ bearerAuth: [] }],
          params: IdParams,
          querystring: Type.Object({ revoke_others: Type.Boolean({ default: false }) }, { additionalProperties: false }),
          response: { 201: NewTokenView, ...errorResponses },
        },
      },
      async (request, reply) => {
        requireAdmin(request);
        const user = await userById(deps.users, request.params.id);
        const { token, revoked } = await issueToken(deps.users, user, { revokeOthers: request.query.revoke_others });
        return reply.code(201).send({ id: user.id, name: user.name, role: user.role, token, revokedTokens: revoked });
      },
    );
  };
}
