/** In-memory Store for tests and ephemeral devices. Copies on the way in and out, like a real store would. */
import type { Store } from '../../ctap/authenticator/env.ts';

export interface MemoryStore extends Store {
  /** A copy of the stored bytes (undefined when nothing was saved), for inspection in tests. */
  snapshot(): Uint8Array | undefined;
}

export function createMemoryStore(initial?: Uint8Array): MemoryStore {
  let data = initial ? new Uint8Array(initial) : undefined;
  return Object.freeze({
    load: async (): Promise<Uint8Array | undefined> => (data ? new Uint8Array(data) : undefined),
    save: async (next: Uint8Array): Promise<void> => {
      data = new Uint8Array(next);
    },
    snapshot: (): Uint8Array | undefined => (data ? new Uint8Array(data) : undefined),
  });
}
