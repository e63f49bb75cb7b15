import { describe, expect, it } from 'vitest';
import { describeControlError, parseProfileOverrides, planStart, withScenario } from './start.ts';
import { parseScenario } from '../scenarios/index.ts';

describe('vfido start: control API and profile overrides', () => {
  it('control API on 127.0.0.1:8112 by default, any free port with --port 0, off with --no-control', () => {
    expect(planStart({}, {}).control).toEqual({ host: '127.0.0.1', port: 8112, allowRemote: false });
    expect(planStart({ port: '0' }, {}).control?.port).toBe(0);
    expect(planStart({ port: '0', controlPort: '9000' }, {}).control?.port).toBe(9000);
    expect(planStart({}, { VFIDO_CONTROL_PORT: '9001' }).control?.port).toBe(9001);
    expect(planStart({ control: false }, {}).control).toBeUndefined();
    expect(planStart({ controlHost: '0.0.0.0', controlAllowRemote: true, tokenFile: '/t' }, {}).control).toEqual({
      host: '0.0.0.0',
      port: 8112,
      allowRemote: true,
      tokenFile: '/t',
    });
    expect(() => planStart({ controlPort: 'x' }, {})).toThrow(/--control-port/);
  });

  /** Regression: a remote control client could not be let in by name (only loopback names and the bind address). */
  it('--control-allowed-host NAME, repeatable: names accepted in the Host header', () => {
    expect(planStart({ controlAllowedHost: ['vfido.lan', ' 192.0.2.10 '] }, {}).control?.allowedHosts).toEqual(['vfido.lan', '192.0.2.10']);
    expect(planStart({ controlAllowedHost: [] }, {}).control).toEqual({ host: '127.0.0.1', port: 8112, allowRemote: false });
    expect(() => planStart({ controlAllowedHost: ['vfido.lan:8112'] }, {})).toThrow(/--control-allowed-host must be a host name or address without a port/);
  });

  it('--profile-override NAME=INTEGER', () => {
    expect(parseProfileOverrides([])).toBeUndefined();
    expect(parseProfileOverrides(['maxCredentialCountInList=1', 'firmwareVersion=7'])).toEqual({ maxCredentialCountInList: 1, firmwareVersion: 7 });
    expect(planStart({ profileOverride: ['residentCredentialCapacity=2'] }, {}).options.profileOverrides).toEqual({ residentCredentialCapacity: 2 });
    expect(() => parseProfileOverrides(['maxCredentialCountInList'])).toThrow(/NAME=INTEGER/);
    expect(() => parseProfileOverrides(['x=-1'])).toThrow(/NAME=INTEGER/);
  });

  it('explains a control port in use', () => {
    const e = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(describeControlError(e, { host: '127.0.0.1', port: 8112, allowRemote: false })).toMatch(/http:\/\/127\.0\.0\.1:8112.*in use.*--no-control/);
  });

  it('--scenario: a memory store unless --store; flags win over the file, presence merges', () => {
    expect(planStart({ scenario: 'x.yaml' }, {})).toMatchObject({ scenario: 'x.yaml', options: { store: 'memory' }, storeLabel: 'memory, scenario state' });
    expect(planStart({ scenario: 'x.yaml', store: '/s.vfido' }, {}).options.store).toEqual({ path: '/s.vfido' });
    const parsed = parseScenario('version: 1\nname: s\nprofile: ctap21-nopin\nseed: file\n');
    const scenario = { ...parsed, device: { ...parsed.device, presence: { mode: 'deny' as const, delayMs: 5 } } };
    const fromFile = withScenario(planStart({ scenario: 'x' }, {}).options, scenario);
    expect(fromFile).toMatchObject({ profile: 'ctap21-nopin', seed: 'file', presence: { mode: 'deny', delayMs: 5 } });
    const flagged = withScenario(planStart({ scenario: 'x', profile: 'ctap21', presence: 'approve' }, {}).options, scenario);
    expect(flagged).toMatchObject({ profile: 'ctap21', seed: 'file', presence: { mode: 'approve', delayMs: 5 } });
  });
});
