import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../schemas/common.js';
import { currentUser } from '../plugins/auth.js';

const MeView = Type.Object({ id: Type.String(), name: Type.String(), role: Type.Union([Type.Literal('admin'), Type.Literal('user')]) });

/** `GET /api/me`: who the token belongs to — lets a client check a token and its role. */
export function meRoutes(): FastifyPluginAsync {
  return async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/me',
      { schema: { tags: ['users'], summary: 'The user the token belongs to', security: [{ bearerAuth: [] }], response: { 200: MeView, ...errorResponses } } },
      async (request) => {
        const { id, name, role } = currentUser(request);
        return { id, name, role };
      },
    );
  };
}
