/**
 * The fault engine: the armed rules, the matching, the seeded draws and the history. The seams (ports.ts,
 * middleware.ts, transport.ts) ask it "does a rule fire here?" with the facts they see; the engine answers
 * with the rule's effect and has already logged the firing and appended it to the history.
 */
import type { Logger } from 'pino';
import type { Rng, Scheduler } from '../../ctap/authenticator/env.ts';
import { readU32be } from '../../ctap/bytes.ts';
import { CtapHidCmd } from '../../ctap/constants/commands.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import { parseRule } from './rules.ts';
import type { Facts, FaultEffect, FaultRule, FaultWhen, HistoryEntry, Seam } from './types.ts';

export interface Fired<E extends FaultEffect = FaultEffect> {
  rule: FaultRule;
  effect: E;
  /** The history entry of this firing: a seam may add detail (e.g. the outcome a random draw chose). */
  entry: HistoryEntry;
}

export interface FaultEngineOptions {
  scheduler: Scheduler;
  /** Draws for `probability` and random effect parameters; a forked stream of the device seed. */
  rng: Rng;
  logger: Logger;
  /** Most history entries kept (default HISTORY_LIMIT). */
  historyLimit?: number;
}

/**
 * The history keeps the newest HISTORY_LIMIT entries: a persistent rule on a busy device must not grow it
 * without bound. When older entries were dropped, history() starts with one marker entry
 * `{ seq: 0, fault: 'history', seam: 'state', effect: 'history.dropped', detail: { dropped: n } }`.
 */
export const HISTORY_LIMIT = 10_000;

const HID_COMMAND_NAMES: ReadonlyMap<string, number> = new Map(Object.entries(CtapHidCmd).map(([k, v]) => [k.toLowerCase(), v]));

function list<T>(v: T | T[]): T[] {
  return Array.isArray(v) ? v : [v];
}

function matchesCommand(want: FaultWhen['command'], facts: Facts): boolean {
  if (want === undefined) return true;
  return list(want).some((w) =>
    typeof w === 'number' ? w === facts.commandByte : facts.command !== undefined && w.toLowerCase() === facts.command.toLowerCase(),
  );
}

function matchesHidCommand(want: FaultWhen['hidCommand'], facts: Facts): boolean {
  if (want === undefined) return true;
  if (facts.hidCommand === undefined) return false;
  return list(want).some((w) => (typeof w === 'number' ? (w & 0x7f) === facts.hidCommand : HID_COMMAND_NAMES.get(w.toLowerCase()) === facts.hidCommand));
}

/** Every condition of `when` except `attempt` holds for these facts. */
export function matches(when: FaultWhen, facts: Facts): boolean {
  if (!matchesCommand(when.command, facts)) return false;
  if (!matchesHidCommand(when.hidCommand, facts)) return false;
  if (when.subcommand !== undefined && (facts.subcommand === undefined || !list(when.subcommand).includes(facts.subcommand))) return false;
  if (when.rpId !== undefined && when.rpId !== facts.rpId) return false;
  if (when.credential !== undefined && !(facts.credentials ?? []).includes(when.credential)) return false;
  if (when.channel !== undefined && when.channel !== facts.channel) return false;
  if (when.listSize !== undefined) {
    const n = facts.listSize;
    if (n === undefined) return false;
    if (when.listSize.min !== undefined && n < when.listSize.min) return false;
    if (when.listSize.max !== undefined && n > when.listSize.max) return false;
  }
  if (when.modality !== undefined && when.modality !== facts.modality) return false;
  if (when.direction !== undefined && when.direction !== facts.direction) return false;
  if (when.packet !== undefined && when.packet !== facts.packet) return false;
  if (when.seq !== undefined && when.seq !== facts.seq) return false;
  return true;
}

export class FaultEngine {
  readonly #scheduler: Scheduler;
  readonly #rng: Rng;
  readonly #log: Logger;
  readonly #startedAt: number;
  #rules: FaultRule[] = [];
  /** Ring buffer: #historySize entries from #historyHead (oldest first). */
  #history: HistoryEntry[] = [];
  #historyHead = 0;
  #historySize = 0;
  #historyDropped = 0;
  readonly #historyLimit: number;
  #seq = 0;
  #autoId = 0;
  /**
   * Facts of the CTAP request being served, for the port seams. The dispatch middleware sets them lazily
   * (setCurrent): they are read only where a rule is armed, so most requests never decode them.
   */
  #current: Facts | (() => Facts) | undefined;

  get current(): Facts | undefined {
    const c = this.#current;
    if (typeof c !== 'function') return c;
    const facts = c();
    this.#current = facts;
    return facts;
  }

  set current(facts: Facts | undefined) {
    this.#current = facts;
  }

  /** Set the current request's facts as a thunk, evaluated (once) on first read. */
  setCurrent(facts: () => Facts): void {
    this.#current = facts;
  }
  /** Channels whose next CBOR response the transport must swallow (dispatch `drop`). */
  readonly #swallow = new Set<number>();
  /** Set by the composition: cut the power now (store.powerLoss). */
  onPowerLoss: () => void = () => {};
  /** Checks that need the device (e.g. which store it has): each throws EmulatorError to refuse a rule. */
  readonly #checks: ((rule: FaultRule) => void)[] = [];

  constructor(o: FaultEngineOptions) {
    this.#scheduler = o.scheduler;
    this.#rng = o.rng;
    this.#log = o.logger;
    this.#startedAt = o.scheduler.now();
    this.#historyLimit = Math.max(1, Math.floor(o.historyLimit ?? HISTORY_LIMIT));
  }

  // ---- rules ----

  add(input: unknown): FaultRule {
    const rule = parseRule(input, (type) => {
      let id: string;
      do id = `${type}#${++this.#autoId}`;
      while (this.#rules.some((r) => r.id === id));
      return id;
    });
    if (this.#rules.some((r) => r.id === rule.id)) {
      throw new EmulatorError('EMU_ERR_DUPLICATE_FAULT', `a fault with id ${JSON.stringify(rule.id)} is already armed`);
    }
    for (const check of this.#checks) check(rule);
    this.#rules.push(rule);
    return structuredClone(rule);
  }

  /** Refuse rules this device cannot take (the composition adds these); the rules armed already are checked now. */
  addRuleCheck(check: (rule: FaultRule) => void): void {
    for (const rule of this.#rules) check(rule);
    this.#checks.push(check);
  }

  list(): FaultRule[] {
    return this.#rules.map((r) => structuredClone(r));
  }

  remove(id: string): void {
    const i = this.#rules.findIndex((r) => r.id === id);
    if (i < 0) throw new EmulatorError('EMU_ERR_UNKNOWN_FAULT', `no armed fault with id ${JSON.stringify(id)}`);
    this.#rules.splice(i, 1);
  }

  /** Disarm every rule; returns how many there were. */
  clear(): number {
    const n = this.#rules.length;
    this.#rules = [];
    return n;
  }

  /** Any rule at this seam (the seams' fast path: no facts are computed without one). */
  armed(seam: Seam): boolean {
    for (const r of this.#rules) if (r.seam === seam) return true;
    return false;
  }

  // ---- firing ----

  /** The first rule of `seam` whose effect `accept`s (default: any) that fires for these facts. */
  fireFirst(seam: Seam, facts: Facts, accept?: (e: FaultEffect) => boolean): Fired | undefined {
    for (const rule of [...this.#rules]) {
      if (!this.#candidate(rule, seam, facts, accept)) continue;
      if (this.#decide(rule)) return this.#fire(rule, facts);
    }
    return undefined;
  }

  /** Every rule of `seam` whose effect `accept`s that fires for these facts, in insertion order. */
  fireAll(seam: Seam, facts: Facts, accept?: (e: FaultEffect) => boolean): Fired[] {
    const out: Fired[] = [];
    for (const rule of [...this.#rules]) {
      if (this.#candidate(rule, seam, facts, accept) && this.#decide(rule)) out.push(this.#fire(rule, facts));
    }
    return out;
  }

  #candidate(rule: FaultRule, seam: Seam, facts: Facts, accept?: (e: FaultEffect) => boolean): boolean {
    return rule.seam === seam && this.#rules.includes(rule) && matches(rule.when, facts) && (!accept || accept(rule.effect));
  }

  /** Count the opportunity, then apply `attempt` and `probability`. */
  #decide(rule: FaultRule): boolean {
    rule.matched++;
    if (rule.when.attempt !== undefined && !list(rule.when.attempt).includes(rule.matched)) return false;
    if (rule.probability !== undefined && rule.probability < 1 && this.random() >= rule.probability) return false;
    return true;
  }

  #fire(rule: FaultRule, facts: Facts): Fired {
    rule.fired++;
    if (rule.remaining !== null) {
      rule.remaining--;
      if (rule.remaining <= 0) this.#rules = this.#rules.filter((r) => r !== rule);
    }
    const { type, ...params } = rule.effect;
    const entry = this.record({
      fault: rule.id,
      seam: rule.seam,
      effect: type,
      ...(facts.command !== undefined ? { command: facts.command } : {}),
      ...(facts.channel !== undefined ? { channel: facts.channel } : {}),
      ...(facts.rpId !== undefined ? { rpId: facts.rpId } : {}),
      ...(Object.keys(params).length ? { detail: { ...params } } : {}),
    });
    this.#log.info({ fault: rule.id, seam: rule.seam, effect: type, cmd: facts.command, cid: facts.channel }, 'fault');
    return { rule: structuredClone(rule), effect: rule.effect, entry };
  }

  // ---- history ----

  /** Append an entry (firings, and control operations with fault 'control', seam 'state'). */
  record(e: Omit<HistoryEntry, 'seq' | 'at'>): HistoryEntry {
    const entry: HistoryEntry = { seq: ++this.#seq, at: Math.round((this.#scheduler.now() - this.#startedAt) * 10) / 10, ...e };
    const limit = this.#historyLimit;
    if (this.#historySize < limit) {
      this.#history[(this.#historyHead + this.#historySize) % limit] = entry;
      this.#historySize++;
    } else {
      this.#history[this.#historyHead] = entry; // overwrite the oldest
      this.#historyHead = (this.#historyHead + 1) % limit;
      this.#historyDropped++;
    }
    return entry;
  }

  /** Oldest first; led by a `history.dropped` marker (seq 0) when older entries were dropped (HISTORY_LIMIT). */
  history(): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let i = 0; i < this.#historySize; i++) {
      out.push(structuredClone(this.#history[(this.#historyHead + i) % this.#historyLimit]!));
    }
    if (this.#historyDropped > 0) {
      out.unshift({ seq: 0, at: out[0]?.at ?? 0, fault: 'history', seam: 'state', effect: 'history.dropped', detail: { dropped: this.#historyDropped } });
    }
    return out;
  }

  /** How many entries were dropped (the oldest) since the last clearHistory(). */
  get historyDropped(): number {
    return this.#historyDropped;
  }

  clearHistory(): void {
    this.#history = [];
    this.#historyHead = 0;
    this.#historySize = 0;
    this.#historyDropped = 0;
  }

  // ---- helpers for the seams ----

  /** A uniform draw in [0, 1) from the seeded stream. */
  random(): number {
    return readU32be(this.#rng.randomBytes(4)) / 2 ** 32;
  }

  /** A uniform integer in [0, n). */
  randomInt(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** Dispatch `drop`: the transport swallows this channel's next CBOR response. */
  swallowResponse(channel: number): void {
    this.#swallow.add(channel >>> 0);
  }

  /** Transport: whether this channel's CBOR response must be swallowed (consumes the mark). */
  takeSwallow(channel: number): boolean {
    return this.#swallow.delete(channel >>> 0);
  }

  get scheduler(): Scheduler {
    return this.#scheduler;
  }
}
