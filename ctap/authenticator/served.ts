/**
 * Which CTAP2 commands a profile serves (DESIGN.md "Profiles": getInfo never advertises what is not served,
 * and nothing is served that getInfo does not advertise). commands.ts stays the table of everything; the
 * dispatcher of a device gets only its profile's commands and answers every other byte
 * CTAP1_ERR_INVALID_COMMAND (CTAP 2.1 §8.2, CHECKLIST B0.4).
 *
 * The set follows from what the profile claims:
 * - no "FIDO_2_0" / "FIDO_2_1" in versions (a U2F-only key): none at all;
 * - CTAP 2.0 (no "FIDO_2_1"): makeCredential, getAssertion, getInfo, reset, getNextAssertion, and clientPIN
 *   with a PIN (CTAP 2.0 §5 defines no other command);
 * - CTAP 2.1 adds selection, bioEnrollment (0x09, preview 0x40) with a fingerprint sensor, and the management
 *   commands whose features the profile has (features.ts: credMgmt 0x0A and preview 0x41, largeBlobs 0x0C,
 *   authenticatorConfig 0x0D);
 * - `profile.commands`, when present, narrows that set further (a model lacking a command it could have).
 */
import { CtapCommand as C } from '../constants/commands.ts';
import { commandTable } from './commands.ts';
import type { CommandTable } from './dispatch.ts';
import { configSupported, credentialManagementSupported, fingerprintSensor, largeBlobsSupported } from './features.ts';
import { isCtap21, speaksCtap2, Version, type Profile } from './profile.ts';

// The version predicates live with the Profile (a leaf module, so ctap/pin can use them); re-exported here.
export { isCtap21, speaksCtap2, Version } from './profile.ts';

/** Every command the profile's capabilities imply, before `profile.commands` and the table are applied. */
export function impliedCommands(p: Profile): number[] {
  if (!speaksCtap2(p)) return [];
  const c: number[] = [
    C.authenticatorMakeCredential,
    C.authenticatorGetAssertion,
    C.authenticatorGetInfo,
    C.authenticatorReset,
    C.authenticatorGetNextAssertion,
  ];
  if (p.pin || p.uv) c.push(C.authenticatorClientPIN);
  if (!isCtap21(p)) return c;
  c.push(C.authenticatorSelection);
  if (fingerprintSensor(p)) c.push(C.authenticatorBioEnrollment, C.authenticatorBioEnrollmentPreview);
  if (credentialManagementSupported(p)) c.push(C.authenticatorCredentialManagement, C.authenticatorCredentialManagementPreview);
  if (largeBlobsSupported(p)) c.push(C.authenticatorLargeBlobs);
  if (configSupported(p)) c.push(C.authenticatorConfig);
  return c;
}

const cache = new WeakMap<Profile, ReadonlySet<number>>();

/** The commands a device with this profile answers (implied ∩ profile.commands ∩ implemented). */
export function servedCommands(p: Profile): ReadonlySet<number> {
  let s = cache.get(p);
  if (!s) {
    const listed = p.commands ? new Set(p.commands) : undefined;
    s = new Set(impliedCommands(p).filter((c) => commandTable.has(c) && (!listed || listed.has(c))));
    cache.set(p, s);
  }
  return s;
}

/** The dispatcher's table for this profile: the served commands only (CTAP 2.1 §8.2 INVALID_COMMAND for the rest). */
export function servedTable(p: Profile): CommandTable {
  const served = servedCommands(p);
  return new Map([...commandTable].filter(([cmd]) => served.has(cmd)));
}

export function serves(p: Profile, command: number): boolean {
  return servedCommands(p).has(command);
}

/**
 * What the versions of a profile require of the rest of it; throws TypeError naming the first violation:
 * - versions has no duplicates (Chromium rejects such a getInfo, CHECKLIST B4.2) and names U2F_V2, FIDO_2_0 or
 *   FIDO_2_1; "FIDO_2_1_PRE" is not listed by hand: getInfo adds it exactly when a preview command is served;
 * - "U2F_V2" iff `u2f`; a key without CTAP2 has neither PIN nor built-in UV;
 * - a CTAP 2.0 profile has only what CTAP 2.0 defines: PIN protocol 1, no built-in UV (its UV rides on CTAP 2.1
 *   tokens), no large blobs, enterprise attestation, setMinPINLength or alwaysUv, and no extension but hmac-secret;
 * - `commands` lists only commands the capabilities imply.
 */
export function checkProfileVersions(p: Profile): void {
  const fail = (why: string): never => {
    throw new TypeError(`profile ${p.name}: ${why}`);
  };
  if (new Set(p.versions).size !== p.versions.length) fail('versions has duplicates');
  if (p.versions.includes(Version.FIDO_2_1_PRE)) fail('FIDO_2_1_PRE is added by getInfo when a preview command is served');
  if (!p.versions.some((v) => v === Version.U2F_V2 || v === Version.FIDO_2_0 || v === Version.FIDO_2_1)) {
    fail('versions names no protocol (U2F_V2, FIDO_2_0, FIDO_2_1)');
  }
  if (p.u2f !== p.versions.includes(Version.U2F_V2)) fail('versions lists U2F_V2 iff the profile has u2f');
  if (!speaksCtap2(p) && (p.pin || p.uv)) fail('a key without CTAP2 has no clientPIN or built-in UV');
  if (speaksCtap2(p) && !isCtap21(p)) {
    if (p.uv) fail('CTAP 2.0 profiles have no built-in UV');
    if (p.pin && p.pin.protocols.some((v) => v !== 1)) fail('CTAP 2.0 has PIN protocol 1 only');
    if (p.largeBlobs || p.enterpriseAttestation || p.maxRPIDsForSetMinPINLength !== undefined || p.options.alwaysUv) {
      fail('large blobs, enterprise attestation, setMinPINLength and alwaysUv are CTAP 2.1 features');
    }
    for (const e of p.extensions) if (e !== 'hmac-secret') fail(`extension ${e} is not defined by CTAP 2.0`);
  }
  const implied = new Set(impliedCommands(p));
  for (const c of p.commands ?? []) if (!implied.has(c)) fail(`command 0x${c.toString(16)} is not supported by its capabilities`);
}
