/**
 * The CTAP2 authenticator: a pure state machine over the Env ports. The CTAPHID layer hands it
 * `command byte || CBOR` and sends back `status || CBOR`.
 */
import { equal } from '../bytes.ts';
import { buildAttestationChain } from '../attestation/chain.ts';
import { checkProfileExtensions } from '../extensions/registry.ts';
import { encodeResponseApdu, U2fStatus } from '../u2f/apdu.ts';
import { handleApdu } from '../u2f/u2f.ts';
import type { GetInfoResponse } from '../messages/getInfo.ts';
import type { HandlerContext } from './context.ts';
import { CREDENTIAL_ID_LENGTH } from './credentialId.ts';
import { DeviceState } from './deviceState.ts';
import { createDispatcher } from './dispatch.ts';
import { CoseAlg, type Env, type RequestContext, type UvModality } from './env.ts';
import { buildInfo } from './handlers/getInfo.ts';
import { defaultProfile, type Profile } from './profile.ts';
import { checkProfileVersions, servedTable } from './served.ts';
import {
  configDefaults,
  STATE_SCHEMA_VERSION,
  userVerificationDefaults,
  type AttestationMaterial,
  type PersistentState,
  type Template,
} from './state.ts';
import { enrollTemplateDirectly } from './templates.ts';
import { createAuthenticatorControl, type AuthenticatorControl } from './control.ts';
import { reset } from './handlers/reset.ts';

export type AttestationMode = 'none' | 'self' | 'basic';

export interface AuthenticatorOptions {
  env: Env;
  profile?: Profile;
  /** Attestation of new credentials. Default 'basic' (packed, x5c from the device's local test CA). */
  attestation?: AttestationMode;
  /** CTAP 2.1 §6.6: reset is allowed only this long after power-up. Default 10 000 ms. */
  resetWindowMs?: number;
  /** Receives any unexpected error (a bug or a failing port) that was answered with CTAP1_ERR_OTHER. */
  onInternalError?: (error: unknown, command: number | undefined) => void;
}

export interface Authenticator {
  /** payload = command byte || CBOR; returns status || CBOR. Never throws. */
  handleCbor(payload: Uint8Array, ctx: RequestContext): Promise<Uint8Array>;
  /**
   * A CTAP1/U2F command APDU (CTAPHID_MSG); returns the response APDU (`data || SW1 SW2`). Never throws: a
   * failing port is reported to onInternalError and answered SW_UNKNOWN (0x6F00). A profile without U2F answers
   * every APDU SW_INS_NOT_SUPPORTED.
   */
  handleMsg(apdu: Uint8Array, ctx: RequestContext): Promise<Uint8Array>;
  /** Drop volatile state (stateful commands; the reset window restarts), reload persistent state from the store. */
  powerCycle(): Promise<void>;
  /** What getInfo returns now, typed. */
  info(): GetInfoResponse;
  /**
   * Store a biometric template as if the user had enrolled it on the device (face templates, seeded
   * fingerprints, scenarios, the control API); persisted before it resolves. Throws EmulatorError when the
   * profile lacks the modality, the template store is full or the name is too long.
   */
  enrollTemplate(t: { modality: UvModality; name?: string }): Promise<Template>;
  /** The enrolled templates (copies), all modalities, in enrollment order. */
  templates(): Template[];
  readonly profile: Profile;
  /** The harness's control surface (ctap/authenticator/control.ts); mutations are queued with the requests. */
  readonly control: AuthenticatorControl;
}

export const DEFAULT_RESET_WINDOW_MS = 10_000;

/** Re-exported from state.ts (where handlers/reset.ts takes it without importing this module). */
export { userVerificationDefaults } from './state.ts';

function checkProfile(p: Profile): void {
  if (p.aaguid.length !== 16) throw new TypeError(`profile ${p.name}: aaguid must be 16 bytes`);
  if (p.algorithms.length === 0) throw new TypeError(`profile ${p.name}: at least one algorithm is required`);
  for (const alg of p.algorithms) {
    if (alg !== CoseAlg.ES256 && alg !== CoseAlg.EdDSA) throw new TypeError(`profile ${p.name}: unsupported algorithm ${alg}`);
  }
  if (p.maxCredentialIdLength < CREDENTIAL_ID_LENGTH) {
    throw new TypeError(`profile ${p.name}: maxCredentialIdLength must be at least ${CREDENTIAL_ID_LENGTH}`);
  }
  // "Has a fingerprint sensor" has one definition (features.ts fingerprintSensor): the modality and its settings go together.
  if ((p.uv?.modalities.includes('fingerprint') ?? false) !== (p.uv?.fingerprint !== undefined)) {
    throw new TypeError(`profile ${p.name}: uv.fingerprint is required with the 'fingerprint' modality, and only with it`);
  }
  checkProfileExtensions(p);
  checkProfileVersions(p);
}

function newAttestation(env: Env, aaguid: Uint8Array): AttestationMaterial {
  const chain = buildAttestationChain(env.crypto, aaguid);
  return {
    aaguid: aaguid.slice(),
    privateKey: chain.attestationPrivateKey,
    certChain: [...chain.certChain],
    enterpriseCertificate: chain.enterpriseCertDer,
  };
}

/** A fresh device: new master key, attestation chain for the profile's AAGUID, no credentials. */
function initialState(env: Env, profile: Profile): PersistentState {
  const masterKey = env.rng.randomBytes(32);
  return {
    schemaVersion: STATE_SCHEMA_VERSION,
    masterKey,
    attestation: newAttestation(env, profile.aaguid),
    residentCredentials: [],
    counters: new Map(),
    nextSeq: 0,
    ...userVerificationDefaults(profile),
    ...configDefaults(),
  };
}

export async function createAuthenticator(opts: AuthenticatorOptions): Promise<Authenticator> {
  const {
    env,
    profile = defaultProfile,
    attestation = 'basic',
    resetWindowMs = DEFAULT_RESET_WINDOW_MS,
    onInternalError,
  } = opts;
  checkProfile(profile);
  const device = new DeviceState(env, () => initialState(env, profile));

  const powerUp = async (): Promise<void> => {
    await device.powerUp();
    // A store written for another AAGUID (the profile changed): issue a certificate for the current one.
    if (!equal(device.persistent.attestation.aaguid, profile.aaguid)) {
      await device.commit({ ...device.persistent, attestation: newAttestation(env, profile.aaguid) });
    }
  };
  await powerUp();

  const context = (request: RequestContext): HandlerContext => ({ env, profile, attestation, resetWindowMs, device, request });
  const dispatch = createDispatcher({
    // CTAP 2.1 §8.2 / CHECKLIST B0.4: a command this profile does not serve is unknown to its dispatcher.
    table: servedTable(profile),
    device,
    context,
    ...(onInternalError ? { onInternalError } : {}),
  });

  // One request at a time (the CTAPHID layer already serialises transactions; this keeps in-process callers
  // from interleaving state updates).
  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };

  // The control API's factory reset: the real reset handler's effect, with a user who always touches and no
  // power-up window (only the harness can ask for it).
  const wipe = (): Promise<void> => {
    const request: RequestContext = { channel: 0, signal: new AbortController().signal, keepalive: () => {} };
    const approve = { request: async () => 'approved' as const };
    return reset({ ...context(request), env: { ...env, presence: approve }, resetWindowMs: Number.POSITIVE_INFINITY });
  };
  const control = createAuthenticatorControl({ env, profile, device, serialize, wipe });

  return Object.freeze({
    control,
    profile,
    handleCbor: (payload: Uint8Array, ctx: RequestContext) => serialize(() => dispatch(payload, ctx)),
    handleMsg: (apdu: Uint8Array, ctx: RequestContext) =>
      serialize(async () => {
        try {
          return await handleApdu(context(ctx), apdu);
        } catch (e) {
          try {
            onInternalError?.(e, undefined);
          } catch {
            // the hook must not break the "never throws" contract
          }
          return encodeResponseApdu(U2fStatus.SW_UNKNOWN);
        }
      }),
    powerCycle: () => serialize(powerUp),
    info: () => buildInfo(profile, device.persistent),
    enrollTemplate: (t: { modality: UvModality; name?: string }) => serialize(() => enrollTemplateDirectly(profile, device, t)),
    templates: () => device.persistent.templates.map((t) => ({ ...t, id: t.id.slice() })),
  });
}
