/**
 * The pinUvAuthToken and its state (CTAP 2.1 §6.5.2.1 `#pinUvAuthToken-state`): permissions, permissions RP ID,
 * in-use flag, userPresent / userVerified flags and the usage timers. Volatile: a power cycle creates a new one.
 *
 * One token serves every protocol: the spec's resetPinUvAuthToken() "for all pinUvAuthProtocols" is `reset()`,
 * and the protocol the token was issued under is remembered, so a token handed out under protocol two does not
 * verify under protocol one (whose own token, in the spec's model, is a fresh random value nobody knows).
 * Timers are evaluated against the Scheduler clock whenever the state is read, which is equivalent to the
 * spec's observer and leaves no timer armed.
 */
import type { Rng, Scheduler } from '../authenticator/env.ts';
import type { PinProtocolVersion } from './protocol.ts';

/** CTAP 2.1 §6.5.2.1: pinUvAuthToken length (32 random bytes, both protocols). */
export const PIN_UV_AUTH_TOKEN_LENGTH = 32;

/** Permission bit that survives an mc/ga (CTAP 2.1 §6.5.5.7: largeBlobWrite). */
const LBW = 0x10;

export interface TokenTimeLimits {
  /** Initial usage time limit: unused this long after issuance, the token stops (USB: 30 s). */
  initialUseMs: number;
  /** User-present time limit: the userPresent flag is cleared this long after issuance (default: initialUseMs). */
  userPresentMs?: number;
  /** Maximum usage time period: the token stops this long after issuance, used or not (≤ 10 min). */
  maxUsageMs: number;
}

export class PinUvAuthToken {
  #value: Uint8Array;
  #protocol: PinProtocolVersion | undefined;
  #inUse = false;
  #used = false;
  #startedAt = 0;
  #permissions = 0;
  #rpId: string | undefined;
  #userPresent = false;
  #userVerified = false;

  constructor(
    private readonly env: { scheduler: Scheduler; rng: Rng },
    private readonly limits: TokenTimeLimits,
  ) {
    this.#value = env.rng.randomBytes(PIN_UV_AUTH_TOKEN_LENGTH);
  }

  /** The token bytes (secret: never log them). */
  get value(): Uint8Array {
    return this.#value;
  }

  /** resetPinUvAuthToken() for all protocols: a new random token; the previous one is unusable from now on. */
  reset(): void {
    this.#value = this.env.rng.randomBytes(PIN_UV_AUTH_TOKEN_LENGTH);
    this.stopUsing();
  }

  /**
   * beginUsingPinUvAuthToken(userIsPresent): "set the userPresent flag to userIsPresent, set the userVerified
   * flag to true, start the usage timer, mark the token in use". `protocol` is the protocol it was issued under.
   */
  begin(protocol: PinProtocolVersion, userIsPresent: boolean): void {
    this.#protocol = protocol;
    this.#userPresent = userIsPresent;
    this.#userVerified = true;
    this.#startedAt = this.env.scheduler.now();
    this.#used = false;
    this.#inUse = true;
  }

  /** stopUsingPinUvAuthToken(): clears permissions, RP ID, flags and the in-use state. */
  stopUsing(): void {
    this.#inUse = false;
    this.#used = false;
    this.#protocol = undefined;
    this.#permissions = 0;
    this.#rpId = undefined;
    this.#userPresent = false;
    this.#userVerified = false;
  }

  /** The spec's timer observer, run lazily. */
  #observe(): void {
    if (!this.#inUse) return;
    const elapsed = this.env.scheduler.now() - this.#startedAt;
    // "If the initial usage time limit is reached before the token is used: stopUsingPinUvAuthToken()";
    // "If the max usage time period is reached: stopUsingPinUvAuthToken()".
    if (elapsed >= this.limits.maxUsageMs || (!this.#used && elapsed >= this.limits.initialUseMs)) {
      this.stopUsing();
      return;
    }
    // "If the user present time limit is reached: clearUserPresentFlag()".
    if (elapsed >= (this.limits.userPresentMs ?? this.limits.initialUseMs)) this.#userPresent = false;
  }

  get inUse(): boolean {
    this.#observe();
    return this.#inUse;
  }

  /** Protocol the token was issued under; undefined when not in use. */
  get protocol(): PinProtocolVersion | undefined {
    this.#observe();
    return this.#protocol;
  }

  get permissions(): number {
    this.#observe();
    return this.#permissions;
  }

  /** The permissions RP ID, if one is associated. */
  get rpId(): string | undefined {
    this.#observe();
    return this.#rpId;
  }

  hasPermission(permission: number): boolean {
    return (this.permissions & permission) === permission;
  }

  /** getUserPresentFlagValue(): false when the token is not in use. */
  userPresentFlag(): boolean {
    this.#observe();
    return this.#inUse && this.#userPresent;
  }

  /** getUserVerifiedFlagValue(): false when the token is not in use. */
  userVerifiedFlag(): boolean {
    this.#observe();
    return this.#inUse && this.#userVerified;
  }

  /** Assign permissions at issuance (undefined bits are kept but never granted anything). */
  setPermissions(permissions: number): void {
    if (this.inUse) this.#permissions = permissions;
  }

  /** Associate the permissions RP ID (at issuance, or on first use by mc/ga). */
  bindRpId(rpId: string): void {
    if (this.inUse) this.#rpId = rpId;
  }

  /** The platform used the token (a pinUvAuthParam made with it verified): the initial-use limit no longer applies. */
  markUsed(): void {
    if (this.inUse) this.#used = true;
  }

  clearUserPresentFlag(): void {
    if (this.inUse) this.#userPresent = false;
  }

  clearUserVerifiedFlag(): void {
    if (this.inUse) this.#userVerified = false;
  }

  clearPermissionsExceptLbw(): void {
    if (this.inUse) this.#permissions &= LBW;
  }
}
