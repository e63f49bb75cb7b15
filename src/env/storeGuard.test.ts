import { describe, expect, it } from 'vitest';
import { CtapError, EmulatorError } from '../../ctap/errors.ts';
import { CtapStatus } from '../../ctap/constants/status.ts';
import type { Store } from '../../ctap/authenticator/env.ts';
import { createMemoryStore } from './memoryStore.ts';
import { guardStore } from './storeGuard.ts';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

describe('guardStore', () => {
  /** Regression: a state that did not decode at power-up was overwritten by the next save. */
  it('after a failed power-up every save is refused with its error, and the stored bytes stay', async () => {
    const inner = createMemoryStore(bytes(1, 2, 3));
    const s = guardStore(inner);
    expect(Array.from((await s.load())!)).toEqual([1, 2, 3]);
    const decodeError = new EmulatorError('EMU_ERR_STATE_CORRUPT', 'stored authenticator state is invalid: x');
    s.powerUpFailed(decodeError);
    const refused = await s.save(bytes(9)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(EmulatorError);
    expect(refused).toMatchObject({ code: 'EMU_ERR_STATE_CORRUPT', cause: decodeError });
    expect((refused as Error).message).toMatch(/^refusing to save: the last power-up could not load the stored state \(stored authenticator state is invalid: x\)/);
    expect(Array.from(inner.snapshot()!)).toEqual([1, 2, 3]);
    // The next power-up loads again: saves work once a load succeeded.
    await s.load();
    await s.save(bytes(4));
    expect(Array.from(inner.snapshot()!)).toEqual([4]);
  });

  it("the store's own load error blocks saves the same way", async () => {
    const failing: Store = {
      load: async () => {
        throw new EmulatorError('EMU_ERR_STORE_CORRUPT', 'checksum mismatch');
      },
      save: async () => expect.unreachable('must not save'),
    };
    const s = guardStore(failing);
    await expect(s.load()).rejects.toThrow(/checksum/);
    await expect(s.save(bytes(1))).rejects.toMatchObject({ code: 'EMU_ERR_STORE_CORRUPT' });
  });

  it("a power-up that failed in one of this store's own saves (store full) does not block saves", async () => {
    let full = true;
    const inner = createMemoryStore();
    const s = guardStore({
      load: () => inner.load(),
      save: async (d) => {
        if (full) throw new EmulatorError('EMU_ERR_STORE_FULL', 'full');
        await inner.save(d);
      },
    });
    await s.load();
    const err = await s.save(bytes(1)).catch((e: unknown) => e);
    // DeviceState.commit wraps it: the cause chain still names the save's own error.
    s.powerUpFailed(new CtapError(CtapStatus.CTAP2_ERR_KEY_STORE_FULL, 'full', { cause: err }));
    full = false;
    await s.save(bytes(2));
    expect(Array.from(inner.snapshot()!)).toEqual([2]);
  });

  it('close waits for the saves in flight, then refuses everything', async () => {
    let release!: () => void;
    const inner = createMemoryStore();
    const s = guardStore({
      load: () => inner.load(),
      save: async (d) => {
        await new Promise<void>((r) => (release = r));
        await inner.save(d);
      },
    });
    const saving = s.save(bytes(7));
    let closed = false;
    const closing = s.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(closed).toBe(false);
    release();
    await saving;
    await closing;
    expect(Array.from(inner.snapshot()!)).toEqual([7]);
    await expect(s.save(bytes(8))).rejects.toMatchObject({ code: 'EMU_ERR_STORE_CLOSED' });
    await expect(s.load()).rejects.toMatchObject({ code: 'EMU_ERR_STORE_CLOSED' });
  });
});
