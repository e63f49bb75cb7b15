/**
 * Loading and applying scenarios: the shipped files are valid and documented, a file maps onto startDevice
 * options and control calls as described in schema.ts, and faults can name injected credentials.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profileNames } from '../../../src/device.ts';
import { loadScenario, parseScenario, profileByName, scenarioStartOptions, startScenario } from '../../../src/scenarios/index.ts';
import { SCENARIOS_DIR, historyWithoutTimes } from './helpers.ts';

const SEED_SCENARIOS = [
  'account-locked',
  'face-mismatch',
  'fingerprint-mismatch',
  'incompatible-device',
  'passkey-corrupted',
  'passkey-deactivated',
];

describe('shipped scenarios', () => {
  it('one per seed-article failure, each documented in a comment block at the top and valid', async () => {
    const files = (await readdir(SCENARIOS_DIR)).filter((f) => f.endsWith('.yaml')).sort();
    expect(files).toEqual(expect.arrayContaining(SEED_SCENARIOS.map((n) => `${n}.yaml`)));
    for (const f of files) {
      const text = await readFile(join(SCENARIOS_DIR, f), 'utf8');
      const header = text.split('\n').slice(0, 5);
      expect(header.every((l) => l.startsWith('#')), `${f} starts with its documentation`).toBe(true);
      const s = await loadScenario(join(SCENARIOS_DIR, f));
      expect(s.name).toBe(f.replace(/\.yaml$/, ''));
      expect(s.device.seed, `${f} is reproducible`).toBeTypeOf('string');
    }
  });
});

describe('profiles', () => {
  it('every name startDevice knows is known to the schema (its profile checks cover every profile)', () => {
    for (const n of profileNames()) expect(profileByName(n)?.name, n).toBe(n === 'default' ? 'ctap21' : n);
  });
});

describe('a scenario maps onto startDevice options and control calls', () => {
  const text = `
name: mapping
seed: s1
profile: ctap21-fingerprint-face
profileOverrides: { maxCredentialCountInList: 2 }
attestation: self
state:
  presence: { mode: deny, delayMs: 5 }
  templates: [{ modality: fingerprint, name: thumb }, { modality: face }]
  sensor:
    fingerprint: mismatch
    face: { script: [no-sample, { match: me }], then: sensor-error }
    delayMs: 1
  pin: { value: "13579", retries: 5, forceChange: true }
  uv: { retries: 2 }
  credentials:
    - { name: carol, rpId: example.com, user: { id: Y2Fyb2w }, alg: EdDSA, status: deactivated }
    - { name: dave, rpId: example.com, user: { id: ZGF2ZQ }, corrupt: [userName, privateKey] }
  locked: true
faults:
  - { effect: signature.corrupt, when: { credential: dave }, persist: true }
  - { effect: { type: presence.delay, ms: 10 }, times: 3 }
`;

  it('device options: profile, overrides, seed, attestation, presence, sensor and templates', () => {
    const s = parseScenario(text, 'mapping.yaml');
    expect(scenarioStartOptions(s)).toEqual({
      transport: 'memory',
      store: 'memory',
      profile: 'ctap21-fingerprint-face',
      profileOverrides: { maxCredentialCountInList: 2 },
      seed: 's1',
      attestation: 'self',
      presence: { mode: 'deny', delayMs: 5 },
      verification: {
        templates: [{ modality: 'fingerprint', name: 'thumb' }, { modality: 'face' }],
        fingerprint: { policy: 'mismatch' },
        face: { script: ['no-sample', { match: 'me' }], then: 'sensor-error' },
        delayMs: 1,
      },
    });
    // Whoever runs it decides transport and store; undefined overrides change nothing.
    expect(scenarioStartOptions(s, { transport: 'udp', port: 0, seed: undefined })).toMatchObject({ transport: 'udp', port: 0, seed: 's1' });
    expect(s.locations.get('state.pin.retries')).toEqual({ line: 14, col: 35 });
  });

  it('state applied in order through the control API, faults armed last with credential names resolved', async () => {
    const run = await startScenario(text);
    try {
      const c = run.device.control;
      expect(historyWithoutTimes(run).map((h) => h.effect)).toEqual([
        'pin.set',
        'credentials.add',
        'credentials.deactivate',
        'credentials.add',
        'credentials.corrupt',
        'credentials.corrupt',
        'pin.setRetries',
        'pin.forceChange',
        'uv.setRetries',
        'lock',
      ]);
      const st = await c.state.get();
      expect(st).toMatchObject({
        profile: 'ctap21-fingerprint-face',
        suspended: true,
        pin: { set: true, retries: 5, forceChange: true },
        uv: { retries: 2 },
        credentials: { discoverable: 1, deactivated: 1 },
        presence: { mode: 'deny', delayMs: 5 },
      });
      expect(run.credentials.carol).toMatchObject({ alg: -8, status: 'active' });
      const dave = run.credentials.dave!;
      expect(run.faults.map((f) => [f.effect.type, f.when])).toEqual([
        ['signature.corrupt', { credential: dave.credentialId }],
        ['presence.delay', {}],
      ]);
      // The credentials map is what the RP registered: dave's key and name as they were before the damage.
      const now = (await c.credentials.list()).find((x) => x.credentialId === dave.credentialId)!;
      expect(now.publicKey).not.toBe(dave.publicKey);
      expect(now.user!.name).not.toBe(dave.user!.name);
    } finally {
      await run.close();
    }
  });

  it('credentials with a chosen credentialId, discoverable: false (server-side) and a largeBlob', async () => {
    const text = [
      'profile: u2f',
      'state:',
      '  credentials:',
      '    - { name: legacy, rpId: u2f.example, credentialId: AAECAwQFBgc, discoverable: false, signCount: 9 }',
      'faults:',
      '  - { effect: signature.corrupt, when: { credential: legacy } }',
      '',
    ].join('\n');
    const run = await startScenario({ text, file: 'u2f.yaml' });
    try {
      expect(run.credentials.legacy).toMatchObject({ credentialId: 'AAECAwQFBgc', discoverable: false, signCount: 9 });
      expect(run.faults[0]!.when).toEqual({ credential: 'AAECAwQFBgc' });
    } finally {
      await run.close();
    }
    const blob = Buffer.from('scenario blob').toString('base64url');
    const withBlob = await startScenario({
      text: `state:\n  credentials:\n    - { name: a, rpId: a.example, user: { id: YQ }, credentialId: c2hvcnQ, largeBlob: ${blob} }\n`,
      file: 'blob.yaml',
    });
    try {
      expect(await withBlob.device.control.credentials.list()).toMatchObject([{ credentialId: 'c2hvcnQ', discoverable: true, largeBlob: blob }]);
    } finally {
      await withBlob.close();
    }
  });

  it('startScenario takes a path, YAML text or a parsed scenario; overrides win', async () => {
    const fromPath = await startScenario(join(SCENARIOS_DIR, 'account-locked.yaml'), { profile: 'ctap21-nopin' });
    try {
      expect(fromPath.scenario.file).toBe(join(SCENARIOS_DIR, 'account-locked.yaml'));
      expect((await fromPath.device.control.state.get()).profile).toBe('ctap21-nopin');
    } finally {
      await fromPath.close();
    }
    const parsed = parseScenario('profile: ctap21-face\nstate:\n  locked: false\n', 'p.yaml');
    const fromParsed = await startScenario(parsed);
    try {
      expect(fromParsed.device.authenticator.profile.name).toBe('ctap21-face');
      expect(historyWithoutTimes(fromParsed).map((h) => h.effect)).toEqual(['unlock']);
    } finally {
      await fromParsed.close();
    }
  });
});
