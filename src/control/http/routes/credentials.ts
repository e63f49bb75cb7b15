/**
 * /authenticators/:id/credentials: WebDriver Add / Get / Remove Credential(s) and Set Credential Properties,
 * plus vfido's deactivate / restore / corrupt / counter. Private keys leave the device only on an explicit
 * `?includePrivateKeys=true`, and only to a local request (from loopback, addressed to loopback): a server
 * reachable from the network (allowRemote) never sends them over it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CorruptTarget, CredentialInfo } from '../../types.ts';
import { HttpError } from '../errors.ts';
import { isLocalRequest } from '../security.ts';
import type { AuthenticatorEntry } from '../registry.ts';
import type { RouteContext } from '../server.ts';
import {
  authenticatorParams,
  corruptBody,
  counterBody,
  credentialBody,
  credentialParams,
  credentialQuery,
  credentialsQuery,
  propsBody,
} from '../schemas.ts';
import { credentialInput, webDriverCredential, type CredentialBody, type WebDriverCredential } from '../webdriver.ts';

type IdParams = { id: string };
type CredParams = { id: string; credentialId: string };

/** The canonical (unpadded base64url) spelling of a credential ID path segment. */
function canonicalId(id: string): string {
  return Buffer.from(id, 'base64url').toString('base64url');
}

function unknownCredential(id: string): HttpError {
  return new HttpError(404, 'EMU_ERR_UNKNOWN_CREDENTIAL', `no credential with id ${id} on this authenticator`);
}

/** includePrivateKeys=true, refused (403) unless the request is local. */
function wantsPrivateKeys(req: FastifyRequest, flag: 'true' | 'false' | undefined): boolean {
  if (flag !== 'true') return false;
  if (!isLocalRequest(req.socket.remoteAddress, req.headers.host)) {
    throw new HttpError(
      403,
      'EMU_ERR_FORBIDDEN_REMOTE',
      'query.includePrivateKeys: private keys are exported only to a client on this machine that addresses it by a loopback name (127.0.0.1, localhost, [::1])',
    );
  }
  return true;
}

export function credentialRoutes(app: FastifyInstance, { registry }: RouteContext): void {
  const describe = (entry: AuthenticatorEntry, infos: CredentialInfo[]): WebDriverCredential[] => {
    const rules = entry.device.control.faults.list();
    return infos.map((c) => webDriverCredential(c, registry.backupFlags(entry, c.credentialId, rules)));
  };

  async function find(entry: AuthenticatorEntry, id: string, includePrivateKeys = false): Promise<CredentialInfo> {
    const want = canonicalId(id);
    const found = (await entry.device.control.credentials.list({ includePrivateKeys })).find((c) => c.credentialId === want);
    if (!found) throw unknownCredential(want);
    return found;
  }

  app.post<{ Params: IdParams; Body: CredentialBody }>(
    '/authenticators/:id/credentials',
    { schema: { params: authenticatorParams, body: credentialBody } },
    async (req, reply) => {
      const entry = registry.get(req.params.id);
      const b = req.body;
      const info = await entry.device.control.credentials.add(credentialInput(b));
      if (b.backupEligibility !== undefined || b.backupState !== undefined) {
        registry.setBackupFlags(entry, info.credentialId, {
          ...(b.backupEligibility !== undefined ? { backupEligibility: b.backupEligibility } : {}),
          ...(b.backupState !== undefined ? { backupState: b.backupState } : {}),
        });
      }
      return reply.code(201).send(describe(entry, [info])[0]);
    },
  );

  app.get<{ Params: IdParams; Querystring: { includePrivateKeys?: 'true' | 'false'; rpId?: string } }>(
    '/authenticators/:id/credentials',
    { schema: { params: authenticatorParams, querystring: credentialsQuery } },
    async (req) => {
      const entry = registry.get(req.params.id);
      const q = req.query;
      const infos = await entry.device.control.credentials.list({
        includePrivateKeys: wantsPrivateKeys(req, q.includePrivateKeys),
        ...(q.rpId !== undefined ? { rpId: q.rpId } : {}),
      });
      return describe(entry, infos);
    },
  );

  // WebDriver Remove All Credentials (active, deactivated and damaged alike).
  app.delete<{ Params: IdParams }>('/authenticators/:id/credentials', { schema: { params: authenticatorParams } }, async (req, reply) => {
    const entry = registry.get(req.params.id);
    for (const c of await entry.device.control.credentials.list()) {
      await entry.device.control.credentials.remove(c.credentialId);
      registry.forgetBackupFlags(entry, c.credentialId);
    }
    return reply.code(204).send();
  });

  app.get<{ Params: CredParams; Querystring: { includePrivateKeys?: 'true' | 'false' } }>(
    '/authenticators/:id/credentials/:credentialId',
    { schema: { params: credentialParams, querystring: credentialQuery } },
    async (req) => {
      const entry = registry.get(req.params.id);
      return describe(entry, [await find(entry, req.params.credentialId, wantsPrivateKeys(req, req.query.includePrivateKeys))])[0];
    },
  );

  app.delete<{ Params: CredParams }>('/authenticators/:id/credentials/:credentialId', { schema: { params: credentialParams } }, async (req, reply) => {
    const entry = registry.get(req.params.id);
    const id = (await find(entry, req.params.credentialId)).credentialId;
    await entry.device.control.credentials.remove(id);
    registry.forgetBackupFlags(entry, id);
    return reply.code(204).send();
  });

  // WebDriver Set Credential Properties: BE / BS of this credential's assertions (a persistent `flags` rule).
  app.post<{ Params: CredParams; Body: { backupEligibility?: boolean; backupState?: boolean } }>(
    '/authenticators/:id/credentials/:credentialId/props',
    { schema: { params: credentialParams, body: propsBody } },
    async (req) => {
      const entry = registry.get(req.params.id);
      const id = (await find(entry, req.params.credentialId)).credentialId;
      return registry.setBackupFlags(entry, id, req.body);
    },
  );

  for (const op of ['deactivate', 'restore'] as const) {
    app.post<{ Params: CredParams }>(`/authenticators/:id/credentials/:credentialId/${op}`, { schema: { params: credentialParams } }, async (req, reply) => {
      const entry = registry.get(req.params.id);
      const id = (await find(entry, req.params.credentialId)).credentialId;
      await entry.device.control.credentials[op](id);
      return reply.code(204).send();
    });
  }

  app.post<{ Params: CredParams; Body: { target: CorruptTarget } }>(
    '/authenticators/:id/credentials/:credentialId/corrupt',
    { schema: { params: credentialParams, body: corruptBody } },
    async (req) => {
      const entry = registry.get(req.params.id);
      const id = (await find(entry, req.params.credentialId)).credentialId;
      return describe(entry, [await entry.device.control.credentials.corrupt(id, req.body.target)])[0];
    },
  );

  // The signature counter of a stored credential (either kind), or (with rpId) of a wrapped non-discoverable ID this device made.
  app.post<{ Params: CredParams; Body: { value: number; rpId?: string } }>(
    '/authenticators/:id/credentials/:credentialId/counter',
    { schema: { params: credentialParams, body: counterBody } },
    async (req, reply) => {
      const entry = registry.get(req.params.id);
      const b = req.body;
      await entry.device.control.credentials.setCounter(canonicalId(req.params.credentialId), b.value, b.rpId !== undefined ? { rpId: b.rpId } : {});
      return reply.code(204).send();
    },
  );
}
