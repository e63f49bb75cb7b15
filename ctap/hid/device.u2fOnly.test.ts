/** CTAPHID for a U2F-only device: no CTAPHID_CBOR (CTAP 2.1 §11.2.9.1.3 capabilities; CHECKLIST A20, A22). */
import { describe, expect, it } from 'vitest';
import { CtapHidCapability, CtapHidCmd, CtapHidError, HID_BROADCAST_CID } from '../constants/commands.ts';
import { harness, NONCE, settle } from '../../test/helpers/hidTestkit.ts';

const { INIT, CBOR, MSG, ERROR } = CtapHidCmd;

describe('a device whose application has no CBOR', () => {
  /** Spec (CHECKLIST A20): "A U2F-only device leaves CBOR clear"; NMSG stays clear since MSG is implemented. */
  it('leaves CAPABILITY_CBOR clear, and NMSG clear when MSG is served', () => {
    const caps = (app: { cbor?: boolean; msg?: boolean }) => {
      const h = harness({ app });
      h.message('a', HID_BROADCAST_CID, INIT, NONCE);
      return h.take()[0]!.payload[16];
    };
    expect(caps({ cbor: false, msg: true })).toBe(0);
    expect(caps({ cbor: true, msg: true })).toBe(CtapHidCapability.CBOR);
  });

  /** Spec (CHECKLIST A28): an unimplemented command → CTAPHID_ERROR INVALID_CMD; MSG still reaches the app. */
  it('answers CBOR with ERROR INVALID_CMD and serves MSG', async () => {
    const h = harness({ app: { cbor: false, msg: true } });
    const a = h.init('a');
    h.message('a', a, CBOR, Uint8Array.of(0x04));
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: ERROR, payload: Uint8Array.of(CtapHidError.ERR_INVALID_CMD) }]);
    expect(h.device.busy).toBe(false);
    h.message('a', a, MSG, Uint8Array.of(0, 3, 0, 0));
    const call = h.app.pending()!;
    expect(call.kind).toBe('msg');
    call.resolve(Uint8Array.of(0x90, 0x00));
    await settle();
    expect(h.take()).toEqual([{ peer: 'a', cid: a, cmd: MSG, payload: Uint8Array.of(0x90, 0x00) }]);
  });
});
