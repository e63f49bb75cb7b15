/** In-memory Store for tests and ephemeral devices. Copies on the way in and out, like a real store would. */
import type { Store } from '../../ctap/authenticator/env.ts';

export interface MemoryStore extends Store {
  /** A copy of the stored bytes (undefined when nothing was saved), for inspection in tests. */
  snapshot(): Uint8Array | undefined;
}

export function createMemoryStore(initial?: Uint8Array): MemoryStore {
  // The stored bytes are area[0, length). A save copies into the same area while it fits (it is grown, never
  // shrunk): an assertion saves the whole state, and a fresh array above 64 bytes costs an allocation outside
  // the V8 heap each time. The copy is synchronous, so a load sees the old bytes or the new ones, never a mix.
  let area = new Uint8Array(0);
  let length: number | undefined;
  const store = (bytes: Uint8Array): void => {
    if (bytes.length > area.length) area = new Uint8Array(Math.max(bytes.length, 2 * area.length));
    area.set(bytes);
    length = bytes.length;
  };
  if (initial) store(initial);
  const copy = (): Uint8Array | undefined => (length === undefined ? undefined : area.slice(0, length));
  return Object.freeze({
    load: async (): Promise<Uint8Array | undefined> => copy(),
    save: async (next: Uint8Array): Promise<void> => store(next),
    snapshot: copy,
  });
}
