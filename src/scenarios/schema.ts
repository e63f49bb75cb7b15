/**
 * The scenario file format (README "Scenarios"): what the device is (profile, overrides, seed, attestation),
 * the state it starts in (PIN, retries, templates, credentials, presence, sensor, locked), and a script of
 * fault rules. The schema is written with the validators of validate.ts; checks that need the profile
 * (a PIN on a key without clientPIN, a face template on a fingerprint key, …) follow, each at its field.
 *
 *   version: 1                      optional; the only version
 *   name: …  description: …         optional (name defaults to the file name)
 *   seed: …                         deterministic run (same seed + same traffic = same bytes and history)
 *   profile: ctap21-fingerprint     one of profileNames(); default ctap21
 *   profileOverrides: { maxCredentialCountInList: 1, … }
 *   attestation: none | self | basic
 *   state:
 *     pin: { value: "1234", retries: 8, forceChange: false }
 *     uv: { retries: 5 }
 *     templates: [{ modality: fingerprint, name: right index }]
 *     sensor: { fingerprint: mismatch | { script: [mismatch, match], then: match } | { falseRejectionRate: 0.2 }, face: …, delayMs, enrollSamples }
 *     presence: { mode: approve | deny | timeout, delayMs, timeoutMs }
 *     credentials: [{ name: alice, rpId, rpName?, user: { id (base64url), name?, displayName? }, alg?, privateKey?, signCount?,
 *                     credentialId? (base64url; default: minted), discoverable?: false (a server-side credential, found only
 *                     by its ID; then user is optional), largeBlob? (base64url, discoverable only),
 *                     status?: active | deactivated, corrupt?: privateKey | credentialId | record | userId | userName | rpId (or a list) }]
 *     locked: true
 *   faults: [{ effect, when?, times? | persist?, probability?, id?, seam? }]   (faults-api.md §2–§3)
 */
import { isMap, isScalar, type Node } from 'yaml';
import { CORRUPT_TARGETS, type CorruptTarget } from '../../ctap/authenticator/control.ts';
import type { Profile } from '../../ctap/authenticator/profile.ts';
import type { CoseAlg } from '../../ctap/authenticator/env.ts';
import { largeBlobsSupported } from '../../ctap/authenticator/features.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import type { StartDeviceOptions } from '../device.ts';
import { MAX_DELAY_MS } from '../limits.ts';
import { profileByName, profileNames } from '../profiles.ts';
import type { SensorBehaviour, SensorOptions, SensorStep } from '../env/verification.ts';
import { applyProfileOverrides, type ProfileOverrides } from '../faults/compat.ts';
import { EFFECTS } from '../faults/rules.ts';
import type { FaultRuleInput } from '../faults/types.ts';
import { faultRuleSchema } from './faultSchema.ts';
import { describe, type Ctx, type Position } from './source.ts';
import {
  bool,
  byKind,
  describeSecret,
  int,
  INVALID,
  list,
  map,
  num,
  numberOrString,
  obj,
  oneOf,
  oneOrMany,
  opt,
  req,
  str,
  type Field,
  type ObjectOf,
  type Validator,
} from './validate.ts';

export interface ScenarioCredential {
  /** The file's own name for it: faults name it in `when.credential`, applyScenario returns it under it. */
  name: string;
  rpId: string;
  rpName?: string;
  /** Absent only for a non-discoverable credential. */
  user?: { id: string; name?: string; displayName?: string };
  alg?: number;
  privateKey?: string;
  signCount?: number;
  /** base64url; absent = minted by the device. */
  credentialId?: string;
  /** false: a server-side (non-discoverable) credential (control.credentials.add `discoverable`). Absent = true. */
  discoverable?: boolean;
  /** base64url blob for the large-blob array (discoverable credentials, profiles with largeBlobs). */
  largeBlob?: string;
  status: 'active' | 'deactivated';
  /** Damage done after it is injected, in order (control.credentials.corrupt). */
  corrupt: CorruptTarget[];
}

export interface ScenarioState {
  pin?: { value?: string; retries?: number; forceChange?: boolean };
  uv?: { retries?: number };
  credentials: ScenarioCredential[];
  /** true: control.lock() (every command but getInfo → OPERATION_DENIED); false: unlock(); absent: as the store has it. */
  locked?: boolean;
}

/** What startDevice takes from a scenario (transport, store, logger come from whoever runs it). */
export type ScenarioDeviceOptions = Pick<
  StartDeviceOptions,
  'profile' | 'profileOverrides' | 'seed' | 'attestation' | 'presence' | 'verification'
>;

export interface Scenario {
  /** The file name messages use. */
  file: string;
  name: string;
  description?: string;
  device: ScenarioDeviceOptions;
  /** Applied after start through device.control, in this order: PIN, credentials (+ damage), retries, lock. */
  state: ScenarioState;
  /** Armed after the state is in place (so the setup never trips a rule). `when.credential` may be a name. */
  faults: FaultRuleInput[];
  /** Field path → line:column, for errors found while applying. */
  locations: ReadonlyMap<string, Position>;
}

/** The Profile behind a name of profileNames() ('default' is the default profile): src/profiles.ts. */
export { profileByName };

// ---- field schemas ---------------------------------------------------------------------------------------

const ms = num({ min: 0, max: MAX_DELAY_MS });
const OUTCOMES = ['match', 'mismatch', 'no-sample', 'sensor-error'] as const;
const outcome = oneOf(OUTCOMES);
/** A credential name: also a valid base64url string, short enough never to be a real credential ID. */
const CREDENTIAL_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
/** 16 bytes, the shortest credential ID a reference may be, is 22 base64url characters. */
const MIN_ID_CHARS = 22;

function base64url(o: { minBytes: number; maxBytes: number; what: string; secret?: boolean }): Validator<string> {
  const expected = `${o.what} as base64url (${o.minBytes}..${o.maxBytes} bytes)`;
  const text = str({ expected, ...(o.secret ? { secret: true } : {}) });
  return (node, path, ctx) => {
    const v = text(node, path, ctx);
    if (v === INVALID) return INVALID;
    const bytes = /^[A-Za-z0-9_-]+$/.test(v) && v.length % 4 !== 1 ? Math.floor((v.length * 3) / 4) : -1;
    if (bytes < o.minBytes || bytes > o.maxBytes) {
      ctx.issue(node, path, `expected ${expected}, got ${o.secret ? describeSecret(node) : JSON.stringify(v)}`);
      return INVALID;
    }
    return v;
  };
}

const step: Validator<SensorStep> = byKind('an outcome (match, mismatch, no-sample, sensor-error) or { match: template name }', {
  scalar: outcome,
  map: obj({ match: req(str()) }),
});

/** A modality's behaviour: a bare outcome (a fixed policy) or one of the three mappings. */
const behaviour: Validator<SensorBehaviour> = byKind(
  'an outcome (match, mismatch, no-sample, sensor-error) or a mapping { policy } / { script, then? } / { falseRejectionRate }',
  {
    scalar: map(outcome, (policy) => ({ policy })),
    map: (node, path, ctx) => {
      const keys = new Set(isMap(node) ? node.items.map((p) => (isScalar(p.key) ? p.key.value : undefined)) : []);
      if (keys.has('script')) return obj({ script: req(list(step)), then: opt(outcome) })(node, path, ctx);
      if (keys.has('falseRejectionRate')) return obj({ falseRejectionRate: req(num({ min: 0, max: 1 })) })(node, path, ctx);
      return obj({ policy: req(outcome) }, { expected: 'a mapping { policy } / { script, then? } / { falseRejectionRate }' })(
        node,
        path,
        ctx,
      );
    },
  },
);

const ALGS: Readonly<Record<string, number>> = { ES256: -7, EdDSA: -8 };
const ALG_EXPECTED = 'an algorithm: -7 or ES256, -8 or EdDSA';

const alg: Validator<number> = (node, path, ctx) => {
  const v = node !== null && isScalar(node) ? node.value : undefined;
  if (v === -7 || v === -8) return v;
  if (typeof v === 'string' && ALGS[v] !== undefined) return ALGS[v];
  ctx.issue(node, path, `expected ${ALG_EXPECTED}, got ${describe(node)}`);
  return INVALID;
};

const credentialFields = {
  name: req(str({ pattern: CREDENTIAL_NAME, expected: 'a name: a letter, then up to 31 of A-Z a-z 0-9 _ -' })),
  rpId: req(str()),
  rpName: opt(str()),
  user: opt(
    obj({
      id: req(base64url({ minBytes: 1, maxBytes: 64, what: 'a user handle' })),
      name: opt(str({ max: 255 })),
      displayName: opt(str({ max: 255 })),
    }),
  ),
  credentialId: opt(base64url({ minBytes: 1, maxBytes: 1023, what: 'a credential ID' })),
  discoverable: opt(bool),
  largeBlob: opt(base64url({ minBytes: 1, maxBytes: 4096, what: 'a large blob' })),
  alg: opt(alg),
  privateKey: opt(base64url({ minBytes: 32, maxBytes: 256, what: 'a PKCS#8 or raw 32-byte private key', secret: true })),
  signCount: opt(int({ min: 0, max: 0xffffffff })),
  status: opt(oneOf(['active', 'deactivated'] as const)),
  corrupt: opt(oneOrMany(oneOf(CORRUPT_TARGETS))),
};

const stateFields = {
  // `secret`: a PIN written as a bare string (`pin: "1234"`) is reported by its length, never echoed.
  pin: opt(
    obj(
      {
        value: opt(str({ min: 4, max: 63, expected: 'a PIN: a string of 4 to 63 characters', secret: true })),
        retries: opt(int({ min: 0 })),
        forceChange: opt(bool),
      },
      { secret: true },
    ),
  ),
  uv: opt(obj({ retries: opt(int({ min: 0 })) })),
  templates: opt(list(obj({ modality: req(oneOf(['fingerprint', 'face'] as const)), name: opt(str()) }))),
  sensor: opt(
    obj({
      fingerprint: opt(behaviour),
      face: opt(behaviour),
      delayMs: opt(ms),
      enrollSamples: opt(list(numberOrString("a sample status byte or 'timeout'", int({ min: 0, max: 0xff }), oneOf(['timeout'] as const)))),
    }),
  ),
  presence: opt(obj({ mode: opt(oneOf(['approve', 'deny', 'timeout'] as const)), delayMs: opt(ms), timeoutMs: opt(ms) })),
  credentials: opt(list(obj(credentialFields))),
  locked: opt(bool),
};

const OVERRIDE_KEYS = {
  maxCredentialCountInList: true,
  maxCredentialIdLength: true,
  residentCredentialCapacity: true,
  firmwareVersion: true,
} satisfies Record<keyof ProfileOverrides, true>;

const topFields = {
  version: opt(int({ min: 1, max: 1 })),
  name: opt(str()),
  description: opt(str({ max: 10_000 })),
  seed: opt(str()),
  profile: opt(oneOf(profileNames())),
  profileOverrides: opt(
    obj(Object.fromEntries(Object.keys(OVERRIDE_KEYS).map((k) => [k, opt(int({ min: 0 }))])) as Record<keyof ProfileOverrides, Field<number>>),
  ),
  attestation: opt(oneOf(['none', 'self', 'basic'] as const)),
  state: opt(obj(stateFields)),
  faults: opt(list(faultRuleSchema)),
};

type Top = ObjectOf<typeof topFields>;
type State = NonNullable<Top['state']>;

// ---- checks that need the profile and the whole file ----------------------------------------------------

function withUv(): string {
  return profileNames().filter((n) => profileByName(n)?.uv).join(', ');
}

function checkAgainstProfile(top: Top, profile: Profile, ctx: Ctx): void {
  const st = top.state ?? {};
  const modalities = profile.uv?.modalities ?? [];
  for (const key of ['templates', 'sensor'] as const) {
    if (st[key] !== undefined && !profile.uv) {
      ctx.issueAt(`state.${key}`, `profile ${profile.name} has no built-in user verification (profiles with one: ${withUv()})`);
    }
  }
  if (profile.uv) {
    st.templates?.forEach((t, i) => {
      if (!modalities.includes(t.modality)) {
        ctx.issueAt(`state.templates[${i}].modality`, `profile ${profile.name} has no ${t.modality} sensor (it has ${modalities.join(', ')})`);
      }
    });
    for (const m of ['fingerprint', 'face'] as const) {
      if (st.sensor?.[m] !== undefined && !modalities.includes(m)) {
        ctx.issueAt(`state.sensor.${m}`, `profile ${profile.name} has no ${m} sensor (it has ${modalities.join(', ')})`);
      }
    }
  }
  if (st.pin !== undefined && !profile.pin) ctx.issueAt('state.pin', `profile ${profile.name} has no PIN (no clientPin)`);
  if (st.pin?.retries !== undefined && profile.pin && st.pin.retries > profile.pin.maxPinRetries) {
    ctx.issueAt('state.pin.retries', `expected an integer 0..${profile.pin.maxPinRetries} (the profile's maximum), got ${st.pin.retries}`);
  }
  if (st.uv !== undefined && !profile.uv) ctx.issueAt('state.uv', `profile ${profile.name} has no built-in user verification`);
  if (st.uv?.retries !== undefined && profile.uv && st.uv.retries > profile.uv.maxUvRetries) {
    ctx.issueAt('state.uv.retries', `expected an integer 0..${profile.uv.maxUvRetries} (the profile's maximum), got ${st.uv.retries}`);
  }
  st.credentials?.forEach((c, i) => {
    if (c.alg !== undefined && !profile.algorithms.includes(c.alg as CoseAlg)) {
      ctx.issueAt(`state.credentials[${i}].alg`, `profile ${profile.name} supports ${profile.algorithms.join(', ')}, not ${c.alg}`);
    }
    if (c.discoverable !== false && !profile.options.rk) {
      ctx.issueAt(`state.credentials[${i}]`, `profile ${profile.name} has no discoverable credentials (discoverable: false injects a server-side one)`);
    }
    if (c.largeBlob !== undefined && (!largeBlobsSupported(profile) || !profile.extensions.includes('largeBlobKey'))) {
      ctx.issueAt(`state.credentials[${i}].largeBlob`, `profile ${profile.name} has no large-blob storage (authenticatorLargeBlobs with largeBlobKey)`);
    }
  });
  top.faults?.forEach((f, i) => {
    const type = typeof f.effect === 'string' ? f.effect : f.effect.type;
    const seam = EFFECTS[type as keyof typeof EFFECTS]?.seam;
    if (seam === 'verification' && !profile.uv) {
      ctx.issueAt(`faults[${i}].effect`, `${type} acts on the built-in UV sensor, and profile ${profile.name} has none (profiles with one: ${withUv()})`);
    }
  });
  if (top.profileOverrides !== undefined) {
    try {
      applyProfileOverrides(profile, top.profileOverrides);
    } catch (e) {
      if (!(e instanceof EmulatorError)) throw e;
      const m = /^(profileOverrides[^:]*): ([\s\S]*)$/.exec(e.message);
      ctx.issueAt(m ? m[1]! : 'profileOverrides', m ? m[2]! : e.message);
    }
  }
}

function checkCredentials(st: State, ctx: Ctx): void {
  const names = new Map<string, number>();
  const owners = new Map<string, number>();
  const ids = new Map<string, number>();
  st.credentials?.forEach((c, i) => {
    const at = `state.credentials[${i}]`;
    const first = names.get(c.name);
    if (first !== undefined) ctx.issueAt(`${at}.name`, `the name ${c.name} is already used by state.credentials[${first}]`);
    else names.set(c.name, i);
    const discoverable = c.discoverable !== false;
    if (c.credentialId !== undefined) {
      const id = Buffer.from(c.credentialId, 'base64url').toString('base64url');
      const prevId = ids.get(id);
      if (prevId !== undefined) ctx.issueAt(`${at}.credentialId`, `the credential ID is already used by state.credentials[${prevId}]`);
      else ids.set(id, i);
    }
    if (discoverable && c.user === undefined) ctx.issueAt(`${at}.user`, 'required for a discoverable credential (discoverable: false makes it optional)');
    if (!discoverable && c.largeBlob !== undefined) {
      ctx.issueAt(`${at}.largeBlob`, 'only a discoverable credential has a largeBlobKey (CTAP 2.1 §12.3), so only it can own a large blob');
    }
    if (discoverable && c.user !== undefined) {
      const owner = JSON.stringify([c.rpId, c.user.id]);
      const prev = owners.get(owner);
      if (prev !== undefined) {
        ctx.issueAt(`${at}.user.id`, `same rpId and user.id as state.credentials[${prev}]: it would replace that credential`);
      } else owners.set(owner, i);
    }
    const corrupt = c.corrupt === undefined ? [] : Array.isArray(c.corrupt) ? c.corrupt : [c.corrupt];
    for (const target of ['userId', 'userName'] as const) {
      if (!discoverable && corrupt.includes(target)) {
        ctx.issueAt(`${at}.corrupt`, `${target}: a non-discoverable credential's assertions carry no user entity to damage`);
      }
    }
    if (c.status === 'deactivated' && corrupt.includes('record')) {
      ctx.issueAt(`${at}.corrupt`, 'a deactivated credential cannot also be a damaged record (corrupt: record sets it aside as damaged)');
    }
  });
}

function checkFaultRefs(top: Top, ctx: Ctx): void {
  const names = (top.state?.credentials ?? []).map((c) => c.name);
  const chosenIds = (top.state?.credentials ?? []).flatMap((c) => (c.credentialId === undefined ? [] : [c.credentialId]));
  const ids = new Set<string>();
  top.faults?.forEach((f, i) => {
    if (f.id !== undefined) {
      if (ids.has(f.id)) ctx.issueAt(`faults[${i}].id`, `the id ${f.id} is already used by another rule`);
      ids.add(f.id);
    }
    const ref = f.when?.credential;
    if (ref !== undefined && !names.includes(ref) && !chosenIds.includes(ref) && ref.length < MIN_ID_CHARS) {
      const known = names.length ? `the credentials declared under state.credentials are ${names.join(', ')}` : 'no credentials are declared under state.credentials';
      ctx.issueAt(`faults[${i}].when.credential`, `expected a credential name or a base64url credential ID, got ${JSON.stringify(ref)} (${known})`);
    }
  });
}

// ---- the whole file --------------------------------------------------------------------------------------

function toScenario(top: Top, file: string, ctx: Ctx): Scenario {
  const st = top.state ?? {};
  const device: ScenarioDeviceOptions = {};
  if (top.profile !== undefined) device.profile = top.profile;
  if (top.profileOverrides !== undefined) device.profileOverrides = top.profileOverrides;
  if (top.seed !== undefined) device.seed = top.seed;
  if (top.attestation !== undefined) device.attestation = top.attestation;
  if (st.presence !== undefined) device.presence = st.presence;
  if (st.templates !== undefined || st.sensor !== undefined) {
    const v: SensorOptions = { ...st.sensor };
    if (st.templates !== undefined) v.templates = st.templates;
    device.verification = v;
  }
  const credentials: ScenarioCredential[] = (st.credentials ?? []).map((c) => ({
    ...c,
    status: c.status ?? 'active',
    corrupt: c.corrupt === undefined ? [] : Array.isArray(c.corrupt) ? c.corrupt : [c.corrupt],
  }));
  const state: ScenarioState = { credentials };
  if (st.locked !== undefined) state.locked = st.locked;
  if (st.pin !== undefined) state.pin = st.pin;
  if (st.uv !== undefined) state.uv = st.uv;
  const base = file.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '');
  const scenario: Scenario = {
    file,
    name: top.name ?? base,
    device,
    state,
    faults: top.faults ?? [],
    locations: ctx.locations,
  };
  if (top.description !== undefined) scenario.description = top.description;
  return scenario;
}

/** Validate the document root; undefined when there were issues (they are in ctx). */
export function scenarioFromYaml(root: Node | null, file: string, ctx: Ctx): Scenario | undefined {
  const top = obj(topFields, { expected: 'a scenario: a mapping with profile, state, faults, …' })(root, '', ctx);
  if (top === INVALID) return undefined;
  const profile = profileByName(top.profile ?? 'default');
  if (profile) checkAgainstProfile(top, profile, ctx);
  if (top.state) checkCredentials(top.state, ctx);
  checkFaultRefs(top, ctx);
  return ctx.issues.length ? undefined : toScenario(top, file, ctx);
}
