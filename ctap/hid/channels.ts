/**
 * CTAPHID channel (CID) allocation, CTAP 2.1 §11.2.9.1.3 (CTAPHID_INIT): each broadcast INIT allocates a
 * new unique channel. Each CID belongs to the peer (client address) that allocated it.
 */
import { HID_BROADCAST_CID } from '../constants/commands.ts';
import { readU32be } from '../bytes.ts';
import type { Rng } from '../authenticator/env.ts';

/** CTAP 2.1 §11.2.4: CID 0 is reserved, 0xFFFFFFFF is the broadcast channel; neither is ever allocated. */
export function isAllocatableCid(cid: number): boolean {
  return cid !== 0 && cid !== HID_BROADCAST_CID;
}

/** Random draws before falling back to probing upward (a constant or exhausted test RNG must not hang us). */
const RANDOM_TRIES = 16;

export class ChannelTable {
  /** cid → owning peer; Map order is least-recently-used first (touch() moves a channel to the end). */
  private readonly owners = new Map<number, string>();

  /** `max`: channels kept at once; allocating beyond it evicts the least recently used unpinned one. */
  constructor(private readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxChannels must be a positive integer, got ${max}`);
  }

  get size(): number {
    return this.owners.size;
  }

  ownerOf(cid: number): string | undefined {
    return this.owners.get(cid);
  }

  /** Mark a channel as recently used (it is evicted last). */
  touch(cid: number): void {
    const owner = this.owners.get(cid);
    if (owner === undefined) return;
    this.owners.delete(cid);
    this.owners.set(cid, owner);
  }

  /**
   * Allocate a fresh CID for `peer`. `pinned(cid)` says which channels must not be evicted
   * (the one holding the transaction or the lock).
   */
  allocate(peer: string, rng: Rng, pinned: (cid: number) => boolean): number {
    if (this.owners.size >= this.max) {
      for (const cid of this.owners.keys()) {
        if (!pinned(cid)) {
          this.owners.delete(cid);
          break;
        }
      }
    }
    let cid = 0;
    for (let i = 0; i < RANDOM_TRIES; i++) {
      cid = readU32be(rng.randomBytes(4), 0);
      if (this.isFree(cid)) break;
    }
    while (!this.isFree(cid)) cid = (cid + 1) >>> 0;
    this.owners.set(cid, peer);
    return cid;
  }

  /** Forget every channel (power cycle with the cable unplugged). */
  clear(): void {
    this.owners.clear();
  }

  private isFree(cid: number): boolean {
    return isAllocatableCid(cid) && !this.owners.has(cid);
  }
}
