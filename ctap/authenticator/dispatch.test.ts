import { describe, expect, it, vi } from 'vitest';
import { createAuthenticator } from './authenticator.ts';
import { pinlessProfile } from './profile.ts';
import { encode } from '../cbor.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, createTestRequest, ctapCall, makeCredentialParams } from '../../test/helpers/testEnv.ts';

async function setup() {
  const t = createTestEnv();
  const errors: [unknown, number | undefined][] = [];
  const auth = await createAuthenticator({ env: t.env, onInternalError: (e, cmd) => errors.push([e, cmd]) });
  const send = async (...bytes: number[]) => auth.handleCbor(new Uint8Array(bytes), createTestRequest().ctx);
  return { t, auth, send, errors };
}

describe('dispatch (CTAP 2.1 §6, §8)', () => {
  it('an empty request → CTAP1_ERR_INVALID_COMMAND', async () => {
    const { send } = await setup();
    expect(await send()).toEqual(new Uint8Array([CtapStatus.CTAP1_ERR_INVALID_COMMAND]));
  });

  it.each([0x03, 0x05, 0x09, 0x40, 0xbf, 0xff])(
    'unknown or unimplemented command %i → CTAP1_ERR_INVALID_COMMAND',
    async (cmd) => {
      const { send } = await setup();
      expect(await send(cmd)).toEqual(new Uint8Array([CtapStatus.CTAP1_ERR_INVALID_COMMAND]));
    },
  );

  it('authenticatorClientPIN (0x06) is a command only on profiles with clientPin or built-in UV', async () => {
    const { send } = await setup();
    const params = encode(new Map([[2, 1]])); // getPINRetries
    expect((await send(0x06, ...params))[0]).toBe(CtapStatus.CTAP2_OK);
    const t = createTestEnv();
    const pinless = await createAuthenticator({ env: t.env, profile: pinlessProfile });
    const r = await pinless.handleCbor(new Uint8Array([0x06, ...params]), createTestRequest().ctx);
    expect(r).toEqual(new Uint8Array([CtapStatus.CTAP1_ERR_INVALID_COMMAND]));
  });

  it.each([
    ['truncated map', [0xa1, 0x01]],
    ['trailing bytes', [0xa0, 0x00]],
    ['unsorted keys', [0xa2, 0x02, 0x00, 0x01, 0x00]],
    ['duplicate keys', [0xa2, 0x01, 0x00, 0x01, 0x00]],
    ['non-shortest integer', [0xa1, 0x18, 0x01, 0x00]],
    ['indefinite-length map', [0xbf, 0x01, 0x00, 0xff]],
    ['a tag', [0xc1, 0xa0]],
    ['a float', [0xa1, 0x01, 0xf9, 0x3c, 0x00]],
    ['nesting deeper than 4', [0xa1, 0x01, 0x81, 0x81, 0x81, 0x81, 0x00]],
  ])('parameters that are not canonical CTAP2 CBOR (%s) → CTAP2_ERR_INVALID_CBOR', async (_name, body) => {
    const { send } = await setup();
    expect(await send(CtapCommand.authenticatorMakeCredential, ...body)).toEqual(
      new Uint8Array([CtapStatus.CTAP2_ERR_INVALID_CBOR]),
    );
  });

  it.each([
    ['an array', [0x80]],
    ['an integer', [0x01]],
    ['bytes', [0x41, 0x00]],
  ])('parameters that are %s instead of a map → CTAP2_ERR_CBOR_UNEXPECTED_TYPE', async (_name, body) => {
    const { send } = await setup();
    expect(await send(CtapCommand.authenticatorGetAssertion, ...body)).toEqual(
      new Uint8Array([CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE]),
    );
  });

  it('errors are the status byte alone; successes are 0x00 || canonical CBOR', async () => {
    const { auth } = await setup();
    const ok = await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams());
    expect(ok.status).toBe(0);
    expect(ok.body).toBeInstanceOf(Map); // decoded strictly by ctapCall
    const err = await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ algs: [-1] }));
    expect(err.raw).toEqual(new Uint8Array([CtapStatus.CTAP2_ERR_UNSUPPORTED_ALGORITHM]));
  });

  it('any other thrown error → CTAP1_ERR_OTHER, with the cause handed to onInternalError; handleCbor never throws', async () => {
    const { t, auth, errors } = await setup();
    const boom = new Error('disk on fire');
    t.store.failSave = boom;
    const r = await ctapCall(auth, CtapCommand.authenticatorMakeCredential, makeCredentialParams({ options: { rk: true } }));
    expect(r.raw).toEqual(new Uint8Array([CtapStatus.CTAP1_ERR_OTHER]));
    expect(errors).toEqual([[boom, CtapCommand.authenticatorMakeCredential]]);
    // nothing was stored, in memory either
    expect(auth.info().remainingDiscoverableCredentials).toBe(auth.profile.residentCredentialCapacity);
  });

  it('a throwing onInternalError hook does not break the contract', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({
      env: t.env,
      onInternalError: () => {
        throw new Error('logger broken');
      },
    });
    t.store.failSave = new Error('x');
    const raw = await auth.handleCbor(
      new Uint8Array([CtapCommand.authenticatorMakeCredential, ...encodeMc()]),
      createTestRequest().ctx,
    );
    expect(raw).toEqual(new Uint8Array([CtapStatus.CTAP1_ERR_OTHER]));
  });

  it('a user presence port that fails is an internal error (CTAP1_ERR_OTHER), not a user decision', async () => {
    const { t, auth, errors } = await setup();
    const spy = vi.spyOn(t.presence, 'request').mockRejectedValue(new Error('no UI'));
    const r = await ctapCall(auth, CtapCommand.authenticatorSelection);
    expect(r.status).toBe(CtapStatus.CTAP1_ERR_OTHER);
    expect(errors).toHaveLength(1);
    expect(String((errors[0]![0] as Error).cause)).toContain('no UI');
    spy.mockRestore();
  });

  it('requests are handled one at a time (a second request waits for the first)', async () => {
    const { t, auth } = await setup();
    t.presence.mode = 'hold';
    const order: string[] = [];
    const first = ctapCall(auth, CtapCommand.authenticatorSelection).then(() => order.push('selection'));
    const second = ctapCall(auth, CtapCommand.authenticatorGetInfo).then(() => order.push('getInfo'));
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([]);
    t.presence.resolve('approved');
    await Promise.all([first, second]);
    expect(order).toEqual(['selection', 'getInfo']);
  });
});

function encodeMc(): Uint8Array {
  return encode(makeCredentialParams({ options: { rk: true } }));
}
