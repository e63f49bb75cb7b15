/** minPinLength (CTAP 2.1 §12.4): the current minimum PIN length, only for RPs on the minPinLengthRPIDs list. */
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../authenticator/authenticator.ts';
import { decodeState, encodeState } from '../authenticator/state.ts';
import { CtapCommand } from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { createTestEnv, ctapCall, makeCredentialParams } from '../../test/helpers/testEnv.ts';
import { extensionOutputs } from '../../test/helpers/extensions.ts';

const MC = CtapCommand.authenticatorMakeCredential;

/** A device whose stored state authorises `rpIds` and has minimum PIN length `min` (as setMinPINLength leaves it). */
async function deviceWith(rpIds: string[], min: number) {
  const first = createTestEnv({ seed: 'min-pin-length' });
  await createAuthenticator({ env: first.env });
  const state = { ...decodeState(first.store.snapshot()!), minPinLengthRpIds: rpIds, minPinLength: min };
  const t = createTestEnv({ seed: 'min-pin-length', stored: encodeState(state) });
  const auth = await createAuthenticator({ env: t.env });
  const make = (rpId: string, input: unknown = true) =>
    ctapCall(auth, MC, makeCredentialParams({ rpId, extra: [[6, new Map([['minPinLength', input]])]] }));
  return { make };
}

describe('minPinLength (CTAP 2.1 §12.4)', () => {
  /** Spec: output = current minPINLength iff rp.id is in minPinLengthRPIDs. */
  it('an authorised RP gets the current minimum PIN length', async () => {
    const { make } = await deviceWith(['corp.example'], 6);
    const r = await make('corp.example');
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect([...extensionOutputs(r.body!.get(2) as Uint8Array)!.entries()]).toEqual([['minPinLength', 6]]);
  });

  /** Spec: other RPs get no output at all (no ED from this extension). */
  it('any other RP gets no output and no ED; false asks for nothing; a non-boolean → CBOR_UNEXPECTED_TYPE', async () => {
    const { make } = await deviceWith(['corp.example'], 6);
    const other = await make('example.com');
    expect(other.status).toBe(CtapStatus.CTAP2_OK);
    expect(extensionOutputs(other.body!.get(2) as Uint8Array)).toBeUndefined();
    expect(extensionOutputs((await make('corp.example', false)).body!.get(2) as Uint8Array)).toBeUndefined();
    expect((await make('corp.example', 1)).status).toBe(CtapStatus.CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
  });

  it('a fresh device authorises no RP', async () => {
    const t = createTestEnv();
    const auth = await createAuthenticator({ env: t.env });
    const r = await ctapCall(auth, MC, makeCredentialParams({ extra: [[6, new Map([['minPinLength', true]])]] }));
    expect(r.status).toBe(CtapStatus.CTAP2_OK);
    expect(extensionOutputs(r.body!.get(2) as Uint8Array)).toBeUndefined();
  });
});
