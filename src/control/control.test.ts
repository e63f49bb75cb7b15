/** The control API's argument checks: secrets (PINs, private keys) are described, never echoed. */
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatorError } from '../../ctap/errors.ts';
import { startDevice, type Device } from '../device.ts';
import { bytesArg, describeArg, stringArg } from './control.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function device(): Promise<Device> {
  const d = await startDevice({ transport: 'memory', store: 'memory', seed: 'control-args' });
  cleanups.push(() => d.close());
  return d;
}

async function messageOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EmulatorError);
  expect((e as EmulatorError).code).toBe('EMU_ERR_INVALID_ARGUMENT');
  return (e as Error).message;
}

describe('control API: secrets in error messages', () => {
  it('a PIN that is too long is described by its length, not quoted', async () => {
    const d = await device();
    const pin = `secretpin999${'9'.repeat(60)}`;
    const message = await messageOf(d.control.pin.set(pin));
    expect(message).toMatch(/^pin: /);
    expect(message).toContain(`a string of ${pin.length} characters`);
    expect(message).not.toContain('secretpin');
  });

  it('a PIN of the wrong type is described by its type', async () => {
    const d = await device();
    const message = await messageOf(d.control.pin.set(123456 as unknown as string));
    expect(message).toContain('a number');
    expect(message).not.toContain('123456');
  });

  it('a private key that is not base64url is described by its length, not quoted', async () => {
    const d = await device();
    const privateKey = 'SECRETKEYAAAASECRETKEYAAAASECRETKEYAAAASECRETKEYAAAAQ'; // 53 characters: no base64url length
    const message = await messageOf(d.control.credentials.add({ rpId: 'a.example', user: { id: 'AAAA' }, privateKey }));
    expect(message).toBe(`privateKey: expected base64url bytes, got a string of ${privateKey.length} characters`);
    expect(message).not.toContain('SECRETKEY');
  });

  it('arguments that are not secret are still quoted (the message names what was wrong)', async () => {
    const d = await device();
    const message = await messageOf(d.control.credentials.add({ rpId: 'a.example', user: { id: 'not base64!' } }));
    expect(message).toBe('user.id: expected base64url bytes, got "not base64!"');
  });

  it('the checks themselves: secret → type and length only', () => {
    expect(() => stringArg('x'.repeat(70), 'pin', 63, { secret: true })).toThrow(/^pin: .*got a string of 70 characters$/);
    expect(() => bytesArg('abc!', 'privateKey', { secret: true })).toThrow(/got a string of 4 characters$/);
    expect(describeArg(new Uint8Array(3), { secret: true })).toBe('3 bytes');
    expect(describeArg(null, { secret: true })).toBe('null');
    expect(describeArg({ pin: 'x' }, { secret: true })).toBe('an object');
    expect(describeArg('abc')).toBe('"abc"');
  });
});
