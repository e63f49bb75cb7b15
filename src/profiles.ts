/**
 * The device profiles selectable by name (`--profile`, `profile:` in a scenario, `POST /authenticators`):
 * one table for startDevice, the scenario schema and the HTTP API. 'default' names the default profile.
 */
import {
  ctap20Profile,
  defaultProfile,
  faceProfile,
  fingerprintFaceProfile,
  fingerprintProfile,
  pinlessProfile,
  u2fProfile,
  type Profile,
} from '../ctap/authenticator/profile.ts';

const PROFILES: ReadonlyMap<string, Profile> = new Map([
  ['default', defaultProfile],
  ...[defaultProfile, fingerprintProfile, faceProfile, fingerprintFaceProfile, pinlessProfile, ctap20Profile, u2fProfile].map(
    (p) => [p.name, p] as const,
  ),
]);

/** Every selectable name, 'default' first. */
export function profileNames(): string[] {
  return [...PROFILES.keys()];
}

/** The Profile behind a name of profileNames(); undefined for an unknown name. */
export function profileByName(name: string): Profile | undefined {
  return PROFILES.get(name);
}
