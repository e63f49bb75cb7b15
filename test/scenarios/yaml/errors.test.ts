/**
 * Scenario validation: each kind of mistake gives one exact message `file:line:col: field: expected …, got …`
 * at the offending node, every mistake of a file is reported (not just the first), secrets are never echoed,
 * and a failure while applying the state names the field it came from.
 */
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, ScenarioError, startScenario } from '../../../src/scenarios/index.ts';
import { profileNames } from '../../../src/device.ts';
import { EFFECT_TYPES } from '../../../src/faults/rules.ts';

/** The ScenarioError message for `text` (the test fails if it parses). */
function problems(text: string, file = 'bad.yaml'): string {
  try {
    parseScenario(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    expect((e as ScenarioError).code).toBe('EMU_ERR_INVALID_SCENARIO');
    return (e as Error).message;
  }
  throw new Error('the scenario was accepted');
}

const lines = (...l: string[]): string => `${l.join('\n')}\n`;

describe('scenario errors: file:line:col: field: expected …, got …', () => {
  it('a misspelt effect type (the seed-article example)', () => {
    const text = lines(
      'profile: ctap21-fingerprint',
      'state:',
      '  templates: [{ modality: fingerprint }]',
      'faults:',
      '  - effect: uv.mismatch',
      '  - effect:',
      '      type: presense.deny',
    );
    expect(problems(text, 'seed-fingerprint.yaml')).toBe(
      `seed-fingerprint.yaml:7:13: faults[1].effect.type: expected one of ${EFFECT_TYPES.join(', ')}, got "presense.deny" (did you mean presence.deny?)`,
    );
    // The bare form names the effect itself.
    expect(problems(lines('faults:', '  - effect: report.dorp'))).toBe(
      `bad.yaml:2:13: faults[0].effect: expected one of ${EFFECT_TYPES.join(', ')}, got "report.dorp" (did you mean report.drop?)`,
    );
  });

  it('unknown keys are errors, with the known ones and the nearest', () => {
    expect(problems(lines('profle: ctap21'))).toBe(
      'bad.yaml:1:1: profle: unknown key, expected one of version, name, description, seed, profile, profileOverrides, attestation, state, faults (did you mean profile?)',
    );
    expect(problems(lines('faults:', '  - effect: presence.deny', '    tims: 2'))).toBe(
      'bad.yaml:3:5: faults[0].tims: unknown key, expected one of id, seam, when, effect, times, persist, probability (did you mean times?)',
    );
    expect(problems(lines('faults:', '  - effect: { type: presence.delay, msec: 300, ms: 300 }'))).toBe(
      'bad.yaml:2:37: faults[0].effect.msec: unknown key, expected one of type, ms (did you mean ms?)',
    );
    expect(problems(lines('state:', '  lockd: true'))).toMatch(/^bad\.yaml:2:3: state\.lockd: unknown key, expected one of pin, uv, templates, sensor, presence, credentials, locked \(did you mean locked\?\)$/);
  });

  it('wrong types and values', () => {
    expect(problems(lines('seed: 42'))).toBe('bad.yaml:1:7: seed: expected a non-empty string, got 42 (quote it to make it a string: "42")');
    expect(problems(lines('profile: ctap21-fingerprnt'))).toBe(
      `bad.yaml:1:10: profile: expected one of ${profileNames().join(', ')}, got "ctap21-fingerprnt" (did you mean ctap21-fingerprint?)`,
    );
    expect(problems(lines('attestation: [none]'))).toBe('bad.yaml:1:14: attestation: expected one of none, self, basic, got a list');
    expect(problems(lines('faults:', '  - effect: presence.deny', '    probability: 1.5'))).toBe(
      'bad.yaml:3:18: faults[0].probability: expected a number > 0 and <= 1, got 1.5',
    );
    expect(problems(lines('faults:', '  - effect: { type: status, status: CTAP2_ERR_NO_CREDENTIAL }'))).toBe(
      'bad.yaml:2:37: faults[0].effect.status: expected a status byte (0..255) or a CTAP status name such as CTAP2_ERR_NO_CREDENTIALS, got "CTAP2_ERR_NO_CREDENTIAL" (did you mean CTAP2_ERR_NO_CREDENTIALS?)',
    );
    expect(problems(lines('faults:', '  - effect: presence.deny', '    when: { command: getAssertin }'))).toMatch(
      /^bad\.yaml:3:22: faults\[0\]\.when\.command: expected one of makeCredential, getAssertion, .*, got "getAssertin" \(did you mean getAssertion\?\)$/,
    );
  });

  it('the command names of the fault engine are the names the schema knows (U2F ones included)', () => {
    const s = parseScenario(
      lines('profile: u2f', 'faults:', '  - effect: { type: status, sw: SW_WRONG_DATA }', '    when: { command: u2fRegister }'),
      'u2f.yaml',
    );
    expect(s.faults[0]).toMatchObject({ when: { command: 'u2fRegister' }, effect: { type: 'status', sw: 'SW_WRONG_DATA' } });
    expect(problems(lines('faults:', '  - effect: presence.deny', '    when: { command: u2fRegistr }'))).toMatch(/did you mean u2fRegister\?/);
  });

  it('required keys that are missing, at the mapping that lacks them', () => {
    expect(problems(lines('faults:', '  - when: { command: getAssertion }', '    times: 2'))).toBe('bad.yaml:2:5: faults[0].effect: required, but missing');
    expect(problems(lines('state:', '  credentials:', '    - name: alice', '      user: { id: YWxpY2U }'))).toBe(
      'bad.yaml:3:7: state.credentials[0].rpId: required, but missing',
    );
    expect(problems(lines('faults:', '  - effect: presence.delay'))).toBe('bad.yaml:2:13: faults[0].effect: presence.delay needs ms: write { type: presence.delay, ms: … }');
    expect(problems(lines('faults:', '  - effect: status'))).toBe(
      'bad.yaml:2:13: faults[0].effect: status needs status (or sw): write { type: status, status (or sw): … }',
    );
    expect(problems(lines('faults:', '  - effect: { type: status, runHandler: true }'))).toBe(
      'bad.yaml:2:13: faults[0].effect: status needs status (a CTAP status, for CBOR requests) or sw (a U2F status word), or both',
    );
    expect(problems(lines('faults:', '  - effect: { type: status, sw: SW_WRONG_DAT }'))).toMatch(
      /^bad\.yaml:2:33: faults\[0\]\.effect\.sw: expected a U2F status word .*got "SW_WRONG_DAT".*SW_WRONG_DATA/,
    );
  });

  it("the fault engine's own rules, mapped to the rule's fields", () => {
    expect(problems(lines('faults:', '  - effect: presence.deny', '    times: 2', '    persist: true'))).toBe('bad.yaml:2:5: faults[0]: times and persist exclude each other');
    expect(problems(lines('faults:', '  - effect: presence.deny', '    when: { direction: in }'))).toBe(
      'bad.yaml:3:24: faults[0].when.direction: only for transport effects',
    );
    expect(problems(lines('faults:', '  - effect: { type: counter, value: 0, delta: -1 }'))).toBe('bad.yaml:2:13: faults[0].effect: counter takes exactly one of value, delta');
    expect(problems(lines('faults:', '  - { id: a, effect: presence.deny }', '  - { id: a, effect: presence.deny }'))).toBe(
      'bad.yaml:3:11: faults[1].id: the id a is already used by another rule',
    );
  });

  it('checks against the profile', () => {
    expect(problems(lines('profile: ctap21', 'state:', '  templates:', '    - { modality: face }'))).toMatch(
      /^bad\.yaml:4:5: state\.templates: profile ctap21 has no built-in user verification \(profiles with one: .*ctap21-face.*\)$/,
    );
    expect(problems(lines('profile: ctap21-fingerprint', 'state:', '  templates: [{ modality: face }]'))).toBe(
      'bad.yaml:3:27: state.templates[0].modality: profile ctap21-fingerprint has no face sensor (it has fingerprint)',
    );
    expect(problems(lines('profile: ctap21-fingerprint', 'state:', '  uv: { retries: 9 }'))).toBe(
      "bad.yaml:3:18: state.uv.retries: expected an integer 0..5 (the profile's maximum), got 9",
    );
    expect(problems(lines('profile: ctap21-nopin', 'state:', '  pin: { value: "1234" }'))).toBe('bad.yaml:3:8: state.pin: profile ctap21-nopin has no PIN (no clientPin)');
    expect(problems(lines('profile: ctap21', 'faults:', '  - effect: uv.mismatch'))).toMatch(
      /^bad\.yaml:3:13: faults\[0\]\.effect: uv\.mismatch acts on the built-in UV sensor, and profile ctap21 has none \(profiles with one: .*\)$/,
    );
    expect(problems(lines('profileOverrides:', '  maxCredentialIdLength: 2'))).toMatch(/^bad\.yaml:2:26: profileOverrides\.maxCredentialIdLength: expected an integer \d+\.\.1023, got 2$/);
  });

  it('credentials: names, references, conflicts', () => {
    const alice = ['  credentials:', '    - name: alice', '      rpId: example.com', '      user: { id: YWxpY2U }'];
    expect(problems(lines('state:', ...alice, 'faults:', '  - effect: signature.corrupt', '    when: { credential: alcie }'))).toBe(
      'bad.yaml:8:25: faults[0].when.credential: expected a credential name or a base64url credential ID, got "alcie" (the credentials declared under state.credentials are alice)',
    );
    expect(problems(lines('state:', ...alice, '    - name: alice', '      rpId: example.org', '      user: { id: Ym9i }'))).toBe(
      'bad.yaml:6:13: state.credentials[1].name: the name alice is already used by state.credentials[0]',
    );
    expect(problems(lines('state:', ...alice, '    - name: alice2', '      rpId: example.com', '      user: { id: YWxpY2U }'))).toBe(
      'bad.yaml:8:19: state.credentials[1].user.id: same rpId and user.id as state.credentials[0]: it would replace that credential',
    );
    expect(problems(lines('state:', ...alice.slice(0, 3), '      user: { id: "not base64!" }'))).toBe(
      'bad.yaml:5:19: state.credentials[0].user.id: expected a user handle as base64url (1..64 bytes), got "not base64!"',
    );
  });

  it('credentials: chosen IDs and non-discoverable ones', () => {
    const cred = (extra: string) => lines('state:', '  credentials:', `    - { name: a, rpId: a.example${extra} }`);
    expect(problems(cred(''))).toBe(
      'bad.yaml:3:7: state.credentials[0].user: required for a discoverable credential (discoverable: false makes it optional)',
    );
    expect(problems(cred(', discoverable: false, largeBlob: AQ'))).toMatch(/^bad\.yaml:3:\d+: state\.credentials\[0\]\.largeBlob: only a discoverable credential has a largeBlobKey/);
    expect(problems(cred(', discoverable: false, corrupt: userName'))).toMatch(/^bad\.yaml:3:\d+: state\.credentials\[0\]\.corrupt: userName: a non-discoverable credential/);
    expect(problems(cred(', discoverable: false, credentialId: "not base64!"'))).toMatch(/^bad\.yaml:3:\d+: state\.credentials\[0\]\.credentialId: expected a credential ID as base64url/);
    expect(
      problems(lines('state:', '  credentials:', '    - { name: a, rpId: a.example, discoverable: false, credentialId: AQID }', '    - { name: b, rpId: b.example, discoverable: false, credentialId: AQID }')),
    ).toMatch(/^bad\.yaml:4:\d+: state\.credentials\[1\]\.credentialId: the credential ID is already used by state\.credentials\[0\]$/);
    expect(problems(lines('profile: u2f', 'state:', '  credentials:', '    - { name: a, rpId: a.example, user: { id: YQ } }'))).toMatch(
      /^bad\.yaml:4:7: state\.credentials\[0\]: profile u2f has no discoverable credentials/,
    );
  });

  it('secrets are described, never echoed', () => {
    const pin = problems(lines('state:', '  pin: { value: 12 }'));
    expect(pin).toBe('bad.yaml:2:17: state.pin.value: expected a PIN: a string of 4 to 63 characters, got a number (quote it to make it a string)');
    expect(problems(lines('state:', '  pin: { value: "987" }'))).toBe(
      'bad.yaml:2:17: state.pin.value: expected a PIN: a string of 4 to 63 characters, got a string of 3 characters',
    );
    const key = problems(lines('state:', '  credentials:', '    - { name: a, rpId: x.example, user: { id: YQ }, privateKey: c2VjcmV0 }'));
    expect(key).toBe('bad.yaml:3:65: state.credentials[0].privateKey: expected a PKCS#8 or raw 32-byte private key as base64url (32..256 bytes), got a string of 8 characters');
    expect(key).not.toContain('c2VjcmV0');
  });

  /** Regression: `pin: "…"` (a bare string where the { value } mapping belongs) quoted the PIN in the message. */
  it('a PIN written as a bare string is described, not quoted', () => {
    const pin = problems(lines('state:', '  pin: "secretpin999"'));
    expect(pin).toBe('bad.yaml:2:8: state.pin: expected a mapping with value, retries, forceChange, got a string of 12 characters');
    expect(pin).not.toContain('secretpin');
    expect(problems(lines('state:', '  pin: 4711'))).not.toContain('4711');
  });

  it('YAML itself: syntax, duplicate keys, not a mapping', () => {
    expect(problems(lines('faults: [', '  { effect: presence.deny }'))).toMatch(/^bad\.yaml:3:1: YAML: .+/);
    expect(problems(lines('seed: a', 'seed: b'))).toBe('bad.yaml:2:1: YAML: Map keys must be unique');
    expect(problems('')).toBe('bad.yaml:1:1: expected a scenario: a mapping with profile, state, faults, …, got nothing');
    expect(problems(lines('- profile: ctap21'))).toBe('bad.yaml:1:1: expected a scenario: a mapping with profile, state, faults, …, got a list');
  });

  it('every mistake of a file, in file order', () => {
    const e = (() => {
      try {
        parseScenario(lines('seed: 1', 'profile: ctap21', 'faults:', '  - effect: presence.deny', '    times: 0', '  - effect: hid.bussy'), 'many.yaml');
      } catch (err) {
        return err as ScenarioError;
      }
      throw new Error('accepted');
    })();
    expect(e.issues.map((i) => [i.line, i.col, i.path])).toEqual([
      [1, 7, 'seed'],
      [5, 12, 'faults[0].times'],
      [6, 13, 'faults[1].effect'],
    ]);
    expect(e.message.split('\n')).toHaveLength(3);
    expect(e.message.split('\n')[1]).toBe('many.yaml:5:12: faults[0].times: expected an integer >= 1, got 0');
  });

  it('a file that cannot be read, and a step that fails while applying', async () => {
    await expect(loadScenario('/nonexistent/x.yaml')).rejects.toMatchObject({
      code: 'EMU_ERR_SCENARIO_UNREADABLE',
      message: '/nonexistent/x.yaml: cannot read the scenario file (ENOENT)',
    });
    // Valid on paper, but the device only has room for one discoverable credential.
    const text = lines(
      'profileOverrides: { residentCredentialCapacity: 1 }',
      'state:',
      '  credentials:',
      '    - { name: a, rpId: a.example, user: { id: YQ } }',
      '    - { name: b, rpId: b.example, user: { id: Yg } }',
    );
    await expect(startScenario({ text, file: 'full.yaml' })).rejects.toThrow(/^full\.yaml:5:7: state\.credentials\[1\]: control\.credentials\.add: .+/);
  });
});
