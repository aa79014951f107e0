import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AppDeps } from '../app-deps.js';
import { requireAdmin } from '../plugins/auth.js';
import { errorResponses } from '../schemas/common.js';
import { addUser } from '../../service/add-user.js';

/** Admin-only user management. */
export function adminRoutes(deps: AppDeps): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
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
              role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
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
  };
}
