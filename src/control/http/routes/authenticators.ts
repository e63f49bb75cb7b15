/** /authenticators: create (WebDriver Add Virtual Authenticator + vfido options), list, read, delete; /uv. */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../server.ts';
import { authenticatorParams, createAuthenticatorBody, uvBody } from '../schemas.ts';
import type { AuthenticatorBody } from '../webdriver.ts';

type IdParams = { id: string };

export function authenticatorRoutes(app: FastifyInstance, { registry }: RouteContext): void {
  app.post<{ Body: AuthenticatorBody | undefined }>('/authenticators', { schema: { body: createAuthenticatorBody } }, async (req, reply) => {
    const entry = await registry.create(req.body ?? {});
    const d = registry.describe(entry);
    return reply.code(201).send({ authenticatorId: d.authenticatorId, ...(d.udp ? { udp: d.udp } : {}), profile: d.profile });
  });

  app.get('/authenticators', async () => registry.list().map((e) => registry.describe(e)));

  app.get<{ Params: IdParams }>('/authenticators/:id', { schema: { params: authenticatorParams } }, async (req) =>
    registry.describe(registry.get(req.params.id)),
  );

  app.delete<{ Params: IdParams }>('/authenticators/:id', { schema: { params: authenticatorParams } }, async (req, reply) => {
    await registry.remove(req.params.id);
    return reply.code(204).send();
  });

  // WebDriver Set User Verified ({ isUserVerified }: the sensor policy), or vfido's uvRetries ({ retries } / { block }).
  app.post<{ Params: IdParams; Body: { isUserVerified?: boolean; retries?: number; block?: true } }>(
    '/authenticators/:id/uv',
    { schema: { params: authenticatorParams, body: uvBody } },
    async (req, reply) => {
      const entry = registry.get(req.params.id);
      const b = req.body;
      if (b.isUserVerified !== undefined) registry.setUserVerified(entry, b.isUserVerified);
      else if (b.retries !== undefined) await entry.device.control.uv.setRetries(b.retries);
      else await entry.device.control.uv.block();
      return reply.code(204).send();
    },
  );
}
