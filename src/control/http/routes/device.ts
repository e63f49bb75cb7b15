/**
 * Device-wide state: /state, /power-cycle, /reset, /lock, /unlock, /pin, /presence, /sensor, /templates
 * (faults-api.md §5). Each maps onto one DeviceControl call.
 */
import type { FastifyInstance } from 'fastify';
import type { SensorBehaviour, SensorOutcome, SensorStep } from '../../../env/verification.ts';
import type { RouteContext } from '../server.ts';
import { authenticatorParams, pinBody, presenceBody, sensorBody, templateBody } from '../schemas.ts';
import type { DeviceControl } from '../../types.ts';

type IdParams = { id: string };
type Modality = 'fingerprint' | 'face';

export function deviceRoutes(app: FastifyInstance, { registry }: RouteContext): void {
  const params = { params: authenticatorParams };
  const control = (id: string): DeviceControl => registry.get(id).device.control;

  app.get<{ Params: IdParams }>('/authenticators/:id/state', { schema: params }, async (req) => control(req.params.id).state.get());

  const actions: Record<string, (c: DeviceControl) => Promise<void>> = {
    'power-cycle': (c) => c.powerCycle(),
    reset: (c) => c.reset(),
    lock: (c) => c.lock(),
    unlock: (c) => c.unlock(),
  };
  for (const [path, run] of Object.entries(actions)) {
    app.post<{ Params: IdParams }>(`/authenticators/:id/${path}`, { schema: params }, async (req, reply) => {
      await run(control(req.params.id));
      return reply.code(204).send();
    });
  }

  app.post<{ Params: IdParams; Body: { retries?: number; block?: true; forceChange?: boolean; pin?: string; clear?: true } }>(
    '/authenticators/:id/pin',
    { schema: { ...params, body: pinBody } },
    async (req, reply) => {
      const pin = control(req.params.id).pin;
      const b = req.body;
      if (b.retries !== undefined) await pin.setRetries(b.retries);
      else if (b.block) await pin.block();
      else if (b.forceChange !== undefined) await pin.forceChange(b.forceChange);
      else if (b.pin !== undefined) await pin.set(b.pin);
      else await pin.clear();
      return reply.code(204).send();
    },
  );

  app.get<{ Params: IdParams }>('/authenticators/:id/presence', { schema: params }, async (req) => control(req.params.id).presence.get());

  app.post<{ Params: IdParams; Body: { mode?: 'approve' | 'deny' | 'timeout'; delayMs?: number; timeoutMs?: number } }>(
    '/authenticators/:id/presence',
    { schema: { ...params, body: presenceBody } },
    async (req) => {
      const c = control(req.params.id);
      c.presence.set(req.body);
      return c.presence.get();
    },
  );

  app.get<{ Params: IdParams }>('/authenticators/:id/sensor', { schema: params }, async (req) => ({
    attempts: control(req.params.id).sensor.attempts(),
  }));

  app.post<{ Params: IdParams; Body: { modality: Modality; script?: SensorStep[]; policy?: SensorBehaviour | SensorOutcome } }>(
    '/authenticators/:id/sensor',
    { schema: { ...params, body: sensorBody } },
    async (req, reply) => {
      const entry = registry.get(req.params.id);
      const b = req.body;
      if (b.script !== undefined) entry.device.control.sensor.script(b.modality, b.script);
      else {
        entry.device.control.sensor.setPolicy(b.modality, b.policy!);
        // A fixed policy is what WebDriver's isUserVerified reports; anything else leaves it unknown.
        const fixed = typeof b.policy === 'string' ? b.policy : (b.policy as { policy?: unknown }).policy;
        if (fixed === 'match' || fixed === 'mismatch') entry.isUserVerified = fixed === 'match';
        else delete entry.isUserVerified;
      }
      return reply.code(204).send();
    },
  );

  app.get<{ Params: IdParams }>('/authenticators/:id/templates', { schema: params }, async (req) => control(req.params.id).templates.list());

  app.post<{ Params: IdParams; Body: { modality: Modality; name?: string } }>(
    '/authenticators/:id/templates',
    { schema: { ...params, body: templateBody } },
    async (req, reply) => reply.code(201).send(await control(req.params.id).templates.enroll(req.body)),
  );
}
