/** startDevice({ verification }): the simulated biometric sensor, template seeding, device.sensor. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevice, type Device, type StartDeviceOptions } from './device.ts';
import { defaultProfile, faceProfile, fingerprintFaceProfile, fingerprintProfile } from '../ctap/authenticator/profile.ts';
import type { UvModality } from '../ctap/authenticator/env.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function start(opts: Partial<StartDeviceOptions> = {}): Promise<Device> {
  const d = await startDevice({ transport: 'memory', store: 'memory', ...opts });
  cleanups.push(() => d.close());
  return d;
}

function attempt(d: Device, modality: UvModality = 'fingerprint') {
  const templates = d.authenticator.templates().filter((t) => t.modality === modality);
  return d.sensor!.verify({ command: 'test', modality, templates, signal: new AbortController().signal });
}

describe('startDevice: verification', () => {
  it('a profile with uv gets a sensor that matches by default; templates are seeded and persisted', async () => {
    const d = await start({
      profile: fingerprintFaceProfile,
      verification: { templates: [{ modality: 'fingerprint', name: 'Right thumb' }, { modality: 'face' }] },
    });
    const templates = d.authenticator.templates();
    expect(templates.map((t) => [t.modality, t.friendlyName])).toEqual([
      ['fingerprint', 'Right thumb'],
      ['face', undefined],
    ]);
    expect(await attempt(d)).toEqual({ result: 'match', templateId: templates[0]!.id });
    expect(await attempt(d, 'face')).toEqual({ result: 'match', templateId: templates[1]!.id });
    expect(d.sensor!.attempts.map((a) => a.modality)).toEqual(['fingerprint', 'face']);
  });

  it('behaviours from the options, changed at run time through device.sensor', async () => {
    const d = await start({
      profile: fingerprintProfile,
      verification: { templates: [{ modality: 'fingerprint' }], fingerprint: { script: ['mismatch'], then: 'mismatch' } },
    });
    expect((await attempt(d)).result).toBe('mismatch');
    d.sensor!.script('fingerprint', ['match']);
    expect((await attempt(d)).result).toBe('match');
    expect((await attempt(d)).result).toBe('mismatch');
  });

  it('no uv in the profile: no sensor, and the verification option is a clear error', async () => {
    const plain = await start({ profile: defaultProfile });
    expect(plain.sensor).toBeUndefined();
    await expect(start({ profile: defaultProfile, verification: { fingerprint: { policy: 'mismatch' } } })).rejects.toThrow(
      /has no built-in user verification/,
    );
  });

  it('a template of a modality the profile lacks is refused before the device starts', async () => {
    await expect(start({ profile: faceProfile, verification: { templates: [{ modality: 'fingerprint' }] } })).rejects.toThrow(
      /no fingerprint sensor/,
    );
  });

  /**
   * Regression: `verification` was not validated: a name that is not a string was stored (and made the state
   * undecodable at the next power-up); `templates: "x"` iterated the string's characters.
   */
  it('template seeds are validated before the device starts: an array of { modality, name? }, names within the byte limit', async () => {
    const bad: [unknown, RegExp][] = [
      ['x', /^verification\.templates: expected an array of \{ modality, name\? \}, got "x"$/],
      [[{ modality: 'fingerprint', name: { a: 1 } }], /^verification\.templates\[0\]\.name: expected a string, got an object$/],
      [[{ modality: 'fingerprint', name: 7 }], /^verification\.templates\[0\]\.name: expected a string, got number 7$/],
      [['fingerprint'], /^verification\.templates\[0\]: expected \{ modality, name\? \}/],
      [[{ modality: 'iris' }], /^verification\.templates\[0\]\.modality: expected 'fingerprint' or 'face', got "iris"$/],
      [[{ modality: 'fingerprint', colour: 'red' }], /^verification\.templates\[0\]\.colour: unknown field/],
      // CTAP 2.1 §6.7: maxTemplateFriendlyName is counted in UTF-8 bytes (64 on vfido's fingerprint profiles).
      [[{ modality: 'fingerprint', name: 'é'.repeat(33) }], /^verification\.templates\[0\]\.name: at most 64 bytes of UTF-8 \(maxTemplateFriendlyName\), got 66$/],
    ];
    for (const [templates, message] of bad) {
      const e = await start({ profile: fingerprintProfile, verification: { templates } as never }).catch((err: unknown) => err);
      expect(e, JSON.stringify(templates)).toBeInstanceOf(TypeError);
      expect((e as Error).message, JSON.stringify(templates)).toMatch(message);
    }
    await expect(start({ profile: fingerprintProfile, verification: 'x' as never })).rejects.toThrow(/^verification: expected \{ templates\?/);
    const ok = await start({ profile: fingerprintProfile, verification: { templates: [{ modality: 'fingerprint', name: 'é'.repeat(32) }] } });
    expect(ok.authenticator.templates().map((t) => t.friendlyName)).toEqual(['é'.repeat(32)]);
    await ok.powerCycle(); // the stored state decodes
  });

  it('more templates than the profile holds is refused', async () => {
    const templates = Array.from({ length: fingerprintProfile.uv!.templateCapacity + 1 }, () => ({ modality: 'fingerprint' as const }));
    await expect(start({ profile: fingerprintProfile, verification: { templates } })).rejects.toMatchObject({
      code: 'EMU_ERR_TEMPLATE_STORE_FULL',
    });
  });

  it('restarting on the same store file seeds nothing twice (per modality and name, counting duplicates)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vfido-sensor-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const opts: Partial<StartDeviceOptions> = {
      profile: fingerprintFaceProfile,
      store: { path: join(dir, 'state.cbor') },
      verification: { templates: [{ modality: 'face' }, { modality: 'face' }, { modality: 'fingerprint', name: 'Left' }] },
    };
    const first = await start(opts);
    const ids = first.authenticator.templates().map((t) => t.id);
    await first.close();
    const second = await start(opts);
    expect(second.authenticator.templates().map((t) => t.id)).toEqual(ids);
    expect(ids).toHaveLength(3);
  });

  it('seeded runs draw the same false rejections; the sensor stream is independent of the others', async () => {
    const outcomes = async (seed: string) => {
      const d = await start({
        seed,
        profile: fingerprintProfile,
        verification: { templates: [{ modality: 'fingerprint' }], fingerprint: { falseRejectionRate: 0.5 } },
      });
      const out: string[] = [];
      for (let i = 0; i < 32; i++) out.push((await attempt(d)).result);
      return out;
    };
    const a = await outcomes('sensor-seed');
    expect(await outcomes('sensor-seed')).toEqual(a);
    expect(await outcomes('another-seed')).not.toEqual(a);
    expect(new Set(a)).toEqual(new Set(['match', 'mismatch']));
  });
});
