/** pinUvAuthToken state, CTAP 2.1 §6.5.2.1 (`#pinUvAuthToken-state`). Time moves only with the ManualScheduler. */
import { describe, expect, it } from 'vitest';
import { createSeededRng } from '../../src/env/rng.ts';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import { PinUvAuthToken } from './token.ts';

function setup() {
  const scheduler = new ManualScheduler();
  const token = new PinUvAuthToken({ scheduler, rng: createSeededRng('token') }, { initialUseMs: 30_000, maxUsageMs: 600_000 });
  return { scheduler, token };
}

describe('pinUvAuthToken state', () => {
  it('is a 32-byte random value, not in use until issued; flags read false while not in use', () => {
    const { token } = setup();
    expect(token.value.length).toBe(32);
    expect(token.inUse).toBe(false);
    expect(token.userVerifiedFlag()).toBe(false);
    expect(token.userPresentFlag()).toBe(false);
    token.setPermissions(0x03); // ignored: not in use
    expect(token.permissions).toBe(0);
  });

  it('beginUsingPinUvAuthToken(up): in use, userVerified true, userPresent = up, issued under one protocol', () => {
    const { token } = setup();
    token.begin(2, false);
    expect(token.inUse).toBe(true);
    expect(token.protocol).toBe(2);
    expect(token.userVerifiedFlag()).toBe(true);
    expect(token.userPresentFlag()).toBe(false);
    token.begin(1, true);
    expect(token.protocol).toBe(1);
    expect(token.userPresentFlag()).toBe(true);
  });

  it('resetPinUvAuthToken: a new value and the old state is gone (a new token invalidates the old)', () => {
    const { token } = setup();
    token.begin(2, true);
    token.setPermissions(0x03);
    token.bindRpId('example.com');
    const old = token.value.slice();
    token.reset();
    expect(token.value).not.toEqual(old);
    expect(token.inUse).toBe(false);
    expect(token.permissions).toBe(0);
    expect(token.rpId).toBeUndefined();
  });

  it('initial usage time limit: unused for 30 s → stops; used before → keeps going until the max usage period', () => {
    const unused = setup();
    unused.token.begin(2, false);
    unused.scheduler.advance(29_999);
    expect(unused.token.inUse).toBe(true);
    unused.scheduler.advance(1);
    expect(unused.token.inUse).toBe(false);
    expect(unused.token.permissions).toBe(0);

    const used = setup();
    used.token.begin(2, false);
    used.token.setPermissions(0x10);
    used.scheduler.advance(10_000);
    used.token.markUsed();
    used.scheduler.advance(100_000);
    expect(used.token.inUse).toBe(true);
    used.scheduler.advance(600_000 - 110_000 - 1);
    expect(used.token.inUse).toBe(true);
    used.scheduler.advance(1);
    expect(used.token.inUse).toBe(false);
    expect(used.scheduler.pending).toBe(0); // timers are evaluated lazily: none is left armed
  });

  it('user present time limit: the UP flag is cleared after 30 s even while the token stays in use', () => {
    const { scheduler, token } = setup();
    token.begin(2, true);
    token.markUsed();
    scheduler.advance(29_000);
    expect(token.userPresentFlag()).toBe(true);
    scheduler.advance(1_000);
    expect(token.userPresentFlag()).toBe(false);
    expect(token.userVerifiedFlag()).toBe(true);
  });

  it('after an mc/ga: clear UP, UV and every permission except lbw (0x10)', () => {
    const { token } = setup();
    token.begin(2, true);
    token.setPermissions(0x01 | 0x02 | 0x04 | 0x10);
    token.clearUserPresentFlag();
    token.clearUserVerifiedFlag();
    token.clearPermissionsExceptLbw();
    expect(token.userPresentFlag()).toBe(false);
    expect(token.userVerifiedFlag()).toBe(false);
    expect(token.permissions).toBe(0x10);
    expect(token.hasPermission(0x10)).toBe(true);
    expect(token.hasPermission(0x01)).toBe(false);
    expect(token.inUse).toBe(true);
  });
});
