import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import { createTestPresence } from '../../test/helpers/testEnv.ts';
import { REQUEST_WINDOW_MS, TOUCH_VALID_MS, U2fPresence } from './presence.ts';

const flush = () => new Promise<void>((r) => setImmediate(r));

function setup() {
  const scheduler = new ManualScheduler();
  const presence = createTestPresence('hold');
  return { scheduler, presence, latch: new U2fPresence({ scheduler, presence }) };
}

describe('U2F user presence (non-blocking; CHECKLIST E5)', () => {
  /** Spec: U2F Raw Message Formats v1.2 §3.3: no touch → test-of-user-presence required; the host polls. */
  it('answers "not yet" at once, asks the user in the background, and lets one later command use the touch', async () => {
    const { presence, latch } = setup();
    expect(latch.consume('u2fRegister')).toBe(false);
    expect(presence.requests.map((r) => r.command)).toEqual(['u2fRegister']);
    expect(latch.waiting).toBe(true);
    expect(latch.consume('u2fRegister')).toBe(false); // a poll while the key blinks: no second request
    expect(presence.requests).toHaveLength(1);
    presence.resolve('approved');
    await flush();
    expect(latch.touched).toBe(true);
    expect(latch.consume('u2fRegister')).toBe(true);
    // Consumed: the next command needs a new touch.
    expect(latch.consume('u2fAuthenticate')).toBe(false);
    expect(presence.requests.map((r) => r.command)).toEqual(['u2fRegister', 'u2fAuthenticate']);
  });

  it('forgets a touch nobody used within TOUCH_VALID_MS', async () => {
    const { scheduler, presence, latch } = setup();
    latch.consume('u2fRegister');
    presence.resolve('approved');
    await flush();
    scheduler.advance(TOUCH_VALID_MS + 1);
    expect(latch.touched).toBe(false);
    expect(latch.consume('u2fRegister')).toBe(false);
  });

  it('a declined or timed-out request ends; the next poll asks again', async () => {
    const { presence, latch } = setup();
    latch.consume('u2fRegister');
    presence.resolve('denied');
    await flush();
    expect(latch.waiting).toBe(false);
    expect(latch.consume('u2fRegister')).toBe(false);
    presence.resolve('timeout');
    await flush();
    expect(latch.consume('u2fRegister')).toBe(false);
    expect(presence.requests).toHaveLength(3);
  });

  it('stops asking REQUEST_WINDOW_MS after the host stopped polling; every poll keeps the request open', async () => {
    const { scheduler, presence, latch } = setup();
    latch.consume('u2fRegister');
    const signal = presence.requests[0]!.signal;
    scheduler.advance(REQUEST_WINDOW_MS - 1);
    latch.consume('u2fRegister'); // re-arms the window
    scheduler.advance(REQUEST_WINDOW_MS - 1);
    expect(signal.aborted).toBe(false);
    scheduler.advance(2);
    expect(signal.aborted).toBe(true);
    await flush();
    expect(latch.waiting).toBe(false);
    expect(presence.pending).toBe(0);
  });

  it('dispose (power cycle) aborts the request and drops a latched touch', async () => {
    const { presence, latch } = setup();
    latch.consume('u2fRegister');
    presence.resolve('approved');
    await flush();
    latch.dispose();
    expect(latch.touched).toBe(false);
    const fresh = setup();
    fresh.latch.consume('u2fRegister');
    fresh.latch.dispose();
    expect(fresh.presence.requests[0]!.signal.aborted).toBe(true);
    expect(fresh.latch.consume('u2fRegister')).toBe(false);
    expect(fresh.presence.requests).toHaveLength(1); // disposed: no new request
  });
});
