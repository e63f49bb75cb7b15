/** /authenticators/:id/faults (arm, list, disarm) and /history (read, clear): faults-api.md §2 and §4. */
import type { FastifyInstance } from 'fastify';
import type { FaultRuleInput } from '../../../faults/types.ts';
import type { RouteContext } from '../server.ts';
import { authenticatorParams, faultBody, faultParams } from '../schemas.ts';

type IdParams = { id: string };

export function faultRoutes(app: FastifyInstance, { registry }: RouteContext): void {
  const opts = { schema: { params: authenticatorParams } };

  app.get<{ Params: IdParams }>('/authenticators/:id/faults', opts, async (req) => registry.get(req.params.id).device.control.faults.list());

  app.post<{ Params: IdParams; Body: FaultRuleInput }>(
    '/authenticators/:id/faults',
    { schema: { params: authenticatorParams, body: faultBody } },
    async (req, reply) => reply.code(201).send(registry.get(req.params.id).device.control.faults.add(req.body)),
  );

  app.delete<{ Params: IdParams }>('/authenticators/:id/faults', opts, async (req) => ({
    removed: registry.get(req.params.id).device.control.faults.clear(),
  }));

  app.delete<{ Params: IdParams & { faultId: string } }>(
    '/authenticators/:id/faults/:faultId',
    { schema: { params: faultParams } },
    async (req, reply) => {
      registry.get(req.params.id).device.control.faults.remove(req.params.faultId);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: IdParams }>('/authenticators/:id/history', opts, async (req) => registry.get(req.params.id).device.control.history.list());

  app.delete<{ Params: IdParams }>('/authenticators/:id/history', opts, async (req, reply) => {
    registry.get(req.params.id).device.control.history.clear();
    return reply.code(204).send();
  });
}
