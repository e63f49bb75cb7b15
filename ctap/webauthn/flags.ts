/** authenticatorData flags byte, WebAuthn L3 §6.1 (`#sctn-authenticator-data`). */
export const AuthDataFlag = {
  /** Bit 0: user present. */
  UP: 0x01,
  /** Bit 2: user verified. */
  UV: 0x04,
  /** Bit 3: backup eligible (hardware roaming keys: always 0). */
  BE: 0x08,
  /** Bit 4: backup state (never set without BE). */
  BS: 0x10,
  /** Bit 6: attested credential data included (attestation only, never on assertions). */
  AT: 0x40,
  /** Bit 7: extension data included. */
  ED: 0x80,
} as const;
export type AuthDataFlag = (typeof AuthDataFlag)[keyof typeof AuthDataFlag];
