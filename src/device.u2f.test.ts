/** startDevice wiring for CTAP1/U2F: the `msg` hook per profile and its log line. */
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { profileNames, startDevice, u2fInsName, type Device } from './device.ts';
import { createLogger } from './log.ts';
import { CtapHidClient } from './client/ctaphid.ts';
import { CtapHidCapability, CtapHidCmd } from '../ctap/constants/commands.ts';
import { apdu, INS, registerApdu, splitResponse, SW } from '../test/helpers/u2f.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function open(profile: string, logLines?: string[]): Promise<{ d: Device; c: CtapHidClient }> {
  const destination = new Writable({
    write(chunk, _enc, cb) {
      logLines?.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const d = await startDevice({
    transport: 'memory',
    store: 'memory',
    profile,
    logger: createLogger({ level: 'info', pretty: false, destination }),
  });
  cleanups.push(() => d.close());
  const c = await CtapHidClient.open(d.connect(), { timeoutMs: 2_000 });
  cleanups.push(() => c.close());
  return { d, c };
}

describe('startDevice and CTAP1/U2F', () => {
  it('registers the ctap20 and u2f profiles by name', () => {
    expect(profileNames()).toEqual(expect.arrayContaining(['ctap21', 'ctap20', 'u2f', 'ctap21-nopin']));
  });

  /** Spec: CTAP 2.1 §11.2.9.1.3: CBOR iff CTAP2 is spoken, NMSG iff CTAPHID_MSG is not implemented. */
  it.each([
    ['ctap21', CtapHidCapability.CBOR],
    ['ctap20', CtapHidCapability.CBOR],
    ['u2f', 0],
    ['ctap21-nopin', CtapHidCapability.CBOR | CtapHidCapability.NMSG],
  ])('%s: INIT capabilities', async (profile, caps) => {
    const { c } = await open(profile);
    expect(c.capabilities & (CtapHidCapability.CBOR | CtapHidCapability.NMSG)).toBe(caps);
  });

  it('logs one info line per APDU with cid, instruction, status word name and duration', async () => {
    const lines: string[] = [];
    const { c } = await open('ctap21', lines);
    await c.call(CtapHidCmd.MSG, apdu(INS.VERSION));
    await c.call(CtapHidCmd.MSG, apdu(0x55));
    const u2f = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'u2f');
    const cid = c.cid.toString(16).padStart(8, '0');
    expect(u2f).toHaveLength(2);
    expect(u2f[0]).toMatchObject({ level: 30, cid, ins: 'U2F_VERSION', sw: 'SW_NO_ERROR' });
    expect(u2f[1]).toMatchObject({ cid, ins: 'unknown(0x55)', sw: 'SW_INS_NOT_SUPPORTED' });
    expect(typeof u2f[0]!.ms).toBe('number');
  });

  /**
   * Regression: a U2F command without a touch starts a background presence request (the key "blinks") with a
   * 10 s window; close() left it and the user's 20 s timeout running, so the process could not exit for ~10 s.
   */
  it('close() releases a pending U2F touch wait: no timer of the device outlives it', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const d = await startDevice({ transport: 'memory', store: 'memory', presence: { mode: 'timeout', timeoutMs: 20_000 } });
    const c = await CtapHidClient.open(d.connect(), { timeoutMs: 2_000 });
    const r = splitResponse(await c.call(CtapHidCmd.MSG, registerApdu(new Uint8Array(32), new Uint8Array(32))));
    expect(r.sw).toBe(SW.CONDITIONS_NOT_SATISFIED); // no touch yet: the background request is open
    c.close();
    const during = timers(); // at least the 10 s request window and the user's 20 s timeout
    expect(during - before).toBeGreaterThanOrEqual(2);
    await d.close();
    expect(during - timers()).toBeGreaterThanOrEqual(2);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('names U2F instructions', () => {
    expect(u2fInsName(Uint8Array.of(0, 1))).toBe('U2F_REGISTER');
    expect(u2fInsName(Uint8Array.of(0, 2))).toBe('U2F_AUTHENTICATE');
    expect(u2fInsName(Uint8Array.of(0))).toBe('empty');
  });
});
