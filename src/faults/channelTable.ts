/**
 * A bounded (peer, channel) → value table for the transport decorator: nested maps (no key string per report)
 * plus one recency order over every entry, so the least recently used entry is dropped beyond `limit`.
 */

interface Entry<V> {
  peer: string;
  cid: number;
  value: V;
}

export class ChannelTable<V> {
  readonly #byPeer = new Map<string, Map<number, Entry<V>>>();
  /** Every entry, least recently used first (a Set keeps insertion order; a use re-inserts). */
  readonly #order = new Set<Entry<V>>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.#order.size;
  }

  /** The value, now the most recently used. */
  get(peer: string, cid: number): V | undefined {
    const e = this.#byPeer.get(peer)?.get(cid);
    if (e === undefined) return undefined;
    this.#order.delete(e);
    this.#order.add(e);
    return e.value;
  }

  /** The value, removed. */
  take(peer: string, cid: number): V | undefined {
    const e = this.#byPeer.get(peer)?.get(cid);
    if (e !== undefined) this.#remove(e);
    return e?.value;
  }

  set(peer: string, cid: number, value: V): void {
    let channels = this.#byPeer.get(peer);
    if (channels === undefined) this.#byPeer.set(peer, (channels = new Map()));
    const old = channels.get(cid);
    if (old !== undefined) this.#order.delete(old);
    const e: Entry<V> = { peer, cid, value };
    channels.set(cid, e);
    this.#order.add(e);
    if (this.#order.size > this.limit) this.#remove(this.#order.values().next().value!);
  }

  delete(peer: string, cid: number): void {
    const e = this.#byPeer.get(peer)?.get(cid);
    if (e !== undefined) this.#remove(e);
  }

  clear(): void {
    this.#byPeer.clear();
    this.#order.clear();
  }

  #remove(e: Entry<V>): void {
    this.#order.delete(e);
    const channels = this.#byPeer.get(e.peer);
    if (channels === undefined) return;
    channels.delete(e.cid);
    if (channels.size === 0) this.#byPeer.delete(e.peer);
  }
}
