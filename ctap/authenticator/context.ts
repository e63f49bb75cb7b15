/** What every command handler receives (besides its typed request). */
import type { AttestationMode } from './authenticator.ts';
import type { DeviceState } from './deviceState.ts';
import type { Env, RequestContext } from './env.ts';
import type { Profile } from './profile.ts';

export interface HandlerContext {
  env: Env;
  profile: Profile;
  attestation: AttestationMode;
  /** CTAP 2.1 §6.6: how long after power-up authenticatorReset is allowed. */
  resetWindowMs: number;
  device: DeviceState;
  request: RequestContext;
}
