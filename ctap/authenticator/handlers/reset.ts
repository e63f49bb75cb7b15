/** authenticatorReset (0x07), CTAP 2.1 §6.6. */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import { configDefaults, userVerificationDefaults } from '../state.ts';
import type { HandlerContext } from '../context.ts';
import { requireUserPresenceOrTimeout } from '../steps/presence.ts';

export async function reset(h: HandlerContext): Promise<void> {
  // CTAP 2.1 §6.6: "If the request comes after 10 seconds of powering up, the authenticator returns
  // CTAP2_ERR_NOT_ALLOWED" (the window is configurable, default 10 s).
  if (h.env.scheduler.now() - h.device.powerUpAt > h.resetWindowMs) {
    throw new CtapError(CtapStatus.CTAP2_ERR_NOT_ALLOWED, 'reset is only allowed right after power-up');
  }
  // CTAP 2.1 §6.6: user presence is required; declined → OPERATION_DENIED, timeout → USER_ACTION_TIMEOUT.
  await requireUserPresenceOrTimeout(h, 'reset');
  // Everything volatile goes: a getNextAssertion or credMgmt enumeration in progress (whoever called: the
  // dispatcher or the control API's factory reset), the PIN session (new key-agreement keys and pinUvAuthToken, no
  // consecutive mismatches), an enrollment or large-blob write in progress, a U2F touch latched before the wipe
  // (OpenSK resets its U2F state too). The reset window (time of power-up) stays.
  h.device.dropVolatile();
  // Wipe every credential: discoverable ones are deleted, and a new master key makes every earlier credential
  // ID (discoverable or not) unusable; counters go with them. AAGUID and attestation chain are kept.
  // CHECKLIST B6.3: the PIN is removed; pinRetries, uvRetries, minPINLength, forcePINChange and alwaysUv return
  // to their factory values; every biometric template is removed (vendor choice: a reset forgets the user).
  const s = h.device.persistent;
  // Credentials the control API set aside (deactivated / damaged) or injected server-side go with the others.
  const { pin: _removed, setAside: _wiped, serverSideCredentials: _injected, ...kept } = s;
  await h.device.commit({
    ...kept,
    masterKey: h.env.rng.randomBytes(32),
    residentCredentials: [],
    counters: new Map(),
    nextSeq: 0,
    ...userVerificationDefaults(h.profile),
    // CHECKLIST B6.3: the large-blob array returns to its initial value, minPinLengthRPIDs empties, EA is disabled.
    ...configDefaults(),
  });
}
