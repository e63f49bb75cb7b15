import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './memoryStore.ts';

describe('createMemoryStore', () => {
  it('is empty when fresh, then returns what was saved last', async () => {
    const s = createMemoryStore();
    expect(await s.load()).toBeUndefined();
    expect(s.snapshot()).toBeUndefined();
    await s.save(new Uint8Array([1, 2]));
    await s.save(new Uint8Array([3, 4, 5]));
    expect(Array.from((await s.load())!)).toEqual([3, 4, 5]);
    expect(Array.from(s.snapshot()!)).toEqual([3, 4, 5]);
  });

  it('starts from the initial bytes', async () => {
    expect(Array.from((await createMemoryStore(new Uint8Array([9])).load())!)).toEqual([9]);
  });

  it('copies on save, load and snapshot (callers cannot mutate the stored state)', async () => {
    const init = new Uint8Array([1, 2, 3]);
    const s = createMemoryStore(init);
    init[0] = 99;
    const saved = new Uint8Array([4, 5]);
    await s.save(saved);
    saved[0] = 99;
    (await s.load())![1] = 99;
    s.snapshot()![1] = 99;
    expect(Array.from((await s.load())!)).toEqual([4, 5]);
  });
});
