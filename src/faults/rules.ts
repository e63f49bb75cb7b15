/**
 * Rule validation: a FaultRuleInput (from TypeScript, JSON or YAML) becomes a FaultRule or an EmulatorError
 * EMU_ERR_INVALID_ARGUMENT whose message names the offending field. The effect catalogue is data: each
 * effect type's seam and parameters (faults-api.md §3).
 */
import { CtapStatus } from '../../ctap/constants/status.ts';
import { CtapHidCmd, ctapCommandNames } from '../../ctap/constants/commands.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import { U2fStatus } from '../../ctap/u2f/apdu.ts';
import { U2F_COMMAND_NAMES } from './facts.ts';
import { DELAY_RANGE, isDelayMs } from '../limits.ts';
import { SEAMS, type EffectType, type FaultEffect, type FaultRule, type FaultRuleInput, type FaultWhen, type Seam } from './types.ts';

type ParamKind = 'ms' | 'positive' | 'uint' | 'int' | 'byte' | 'bool' | 'string' | 'status' | 'sw' | readonly string[];

interface EffectSpec {
  seam: Seam;
  params: Record<string, ParamKind>;
  required?: string[];
}

const MS: ParamKind = 'ms';
const RESIGN = { resign: 'bool' } as const;

/** The catalogue: effect type → seam and parameters. */
export const EFFECTS: Readonly<Record<EffectType, EffectSpec>> = {
  'presence.approve': { seam: 'presence', params: { afterMs: MS } },
  'presence.deny': { seam: 'presence', params: { afterMs: MS } },
  'presence.timeout': { seam: 'presence', params: { afterMs: MS } },
  'presence.delay': { seam: 'presence', params: { ms: MS }, required: ['ms'] },
  'presence.touches': { seam: 'presence', params: { count: 'positive', intervalMs: MS }, required: ['count'] },
  'uv.match': { seam: 'verification', params: { template: 'string' } },
  'uv.mismatch': { seam: 'verification', params: {} },
  'uv.no-sample': { seam: 'verification', params: {} },
  'uv.sensor-error': { seam: 'verification', params: {} },
  'uv.delay': { seam: 'verification', params: { ms: MS }, required: ['ms'] },
  'store.full': { seam: 'store', params: {} },
  'store.powerLoss': { seam: 'store', params: { outcome: ['old', 'new', 'random'] } },
  // Damages a store file for good: outside the temporary directory only with allowDestructive (compose.ts).
  'store.corrupt': { seam: 'store', params: { mode: ['flip', 'truncate'], allowDestructive: 'bool' } },
  // At least one of status (CBOR requests), sw (U2F requests): parseEffect.
  status: { seam: 'dispatch', params: { status: 'status', sw: 'sw', runHandler: 'bool' } },
  'signature.corrupt': { seam: 'dispatch', params: {} },
  flags: { seam: 'dispatch', params: { up: 'bool', uv: 'bool', at: 'bool', ed: 'bool', be: 'bool', bs: 'bool', ...RESIGN } },
  rpIdHash: { seam: 'dispatch', params: { rpId: 'string', ...RESIGN } },
  counter: { seam: 'dispatch', params: { value: 'uint', delta: 'int', ...RESIGN } },
  cbor: {
    seam: 'dispatch',
    params: { mode: ['truncate', 'nonCanonical', 'indefinite', 'dupKey', 'wrongType', 'trailing'] },
    required: ['mode'],
  },
  delay: { seam: 'dispatch', params: { ms: MS }, required: ['ms'] },
  drop: { seam: 'dispatch', params: { runHandler: 'bool' } },
  'report.drop': { seam: 'transport', params: {} },
  'report.duplicate': { seam: 'transport', params: {} },
  'report.reorder': { seam: 'transport', params: {} },
  'report.truncate': { seam: 'transport', params: { keep: 'uint' } },
  'report.corrupt': { seam: 'transport', params: { offset: 'uint', xor: 'byte' } },
  'report.wrongSeq': { seam: 'transport', params: { seq: 'byte' } },
  'hid.busy': { seam: 'transport', params: {} },
  'keepalive.storm': { seam: 'transport', params: { intervalMs: MS, count: 'positive', status: 'byte' } },
  'response.stall': { seam: 'transport', params: { afterPackets: 'uint' } },
};

export const EFFECT_TYPES = Object.keys(EFFECTS) as EffectType[];

export function invalidArgument(message: string): EmulatorError {
  return new EmulatorError('EMU_ERR_INVALID_ARGUMENT', message);
}

const STATUS_BY_NAME = new Map<string, number>(Object.entries(CtapStatus));

/** A CTAP status given as a number (0..255) or its name ('CTAP2_ERR_NO_CREDENTIALS'). */
export function parseStatus(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff) return v;
  if (typeof v === 'string') {
    const s = STATUS_BY_NAME.get(v);
    if (s !== undefined) return s;
  }
  throw invalidArgument(`${what}: expected a status byte (0..255) or a CTAP status name such as CTAP2_ERR_NO_CREDENTIALS, got ${JSON.stringify(v)}`);
}

const SW_BY_NAME = new Map<string, number>(Object.entries(U2fStatus));

/** A U2F status word given as a number (0..0xffff) or its name ('SW_CONDITIONS_NOT_SATISFIED'). */
export function parseStatusWord(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff) return v;
  if (typeof v === 'string') {
    const s = SW_BY_NAME.get(v);
    if (s !== undefined) return s;
  }
  throw invalidArgument(`${what}: expected a U2F status word (0..0xffff) or its name such as SW_CONDITIONS_NOT_SATISFIED, got ${JSON.stringify(v)}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function param(kind: ParamKind, v: unknown, what: string): unknown {
  const fail = (expected: string): never => {
    throw invalidArgument(`${what}: expected ${expected}, got ${JSON.stringify(v)}`);
  };
  if (Array.isArray(kind)) return kind.includes(v as string) ? v : fail(`one of ${kind.join(', ')}`);
  switch (kind) {
    case 'ms':
      return isDelayMs(v) ? v : fail(`a number of ms (${DELAY_RANGE})`);
    case 'positive':
      return Number.isSafeInteger(v) && (v as number) >= 1 ? v : fail('a positive integer');
    case 'uint':
      return Number.isSafeInteger(v) && (v as number) >= 0 ? v : fail('a non-negative integer');
    case 'int':
      return Number.isSafeInteger(v) ? v : fail('an integer');
    case 'byte':
      return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xff ? v : fail('a byte (0..255)');
    case 'bool':
      return typeof v === 'boolean' ? v : fail('true or false');
    case 'string':
      return typeof v === 'string' && v.length > 0 && v.length <= 255 ? v : fail('a non-empty string');
    case 'status':
      return parseStatus(v, what);
    case 'sw':
      return parseStatusWord(v, what);
  }
  return fail('a known parameter kind');
}

function parseEffect(raw: unknown, what: string): FaultEffect {
  const obj = typeof raw === 'string' ? { type: raw } : raw;
  if (!isPlainObject(obj)) throw invalidArgument(`${what}: expected an effect type string or an object with a type`);
  const type = obj.type;
  if (typeof type !== 'string' || !(type in EFFECTS)) {
    throw invalidArgument(`${what}.type: unknown effect ${JSON.stringify(type)} (known: ${EFFECT_TYPES.join(', ')})`);
  }
  const spec = EFFECTS[type as EffectType];
  const out: Record<string, unknown> = { type };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'type' || v === undefined) continue;
    const kind = spec.params[k];
    if (!kind) {
      const known = Object.keys(spec.params);
      throw invalidArgument(`${what}.${k}: ${type} takes ${known.length ? known.join(', ') : 'no parameters'}`);
    }
    out[k] = param(kind, v, `${what}.${k}`);
  }
  for (const k of spec.required ?? []) if (out[k] === undefined) throw invalidArgument(`${what}.${k}: required by ${type}`);
  if (type === 'status' && out.status === undefined && out.sw === undefined) {
    throw invalidArgument(`${what}.status: required by status (or sw, the status word for U2F requests)`);
  }
  if (type === 'counter' && (out.value === undefined) === (out.delta === undefined)) {
    throw invalidArgument(`${what}: counter takes exactly one of value, delta`);
  }
  if (type === 'counter' && typeof out.value === 'number' && out.value > 0xffffffff) {
    throw invalidArgument(`${what}.value: a signature counter is at most 4294967295`);
  }
  if (type === 'report.truncate' && typeof out.keep === 'number' && out.keep > 63) {
    throw invalidArgument(`${what}.keep: at most 63 (a report is 64 bytes)`);
  }
  if (type === 'report.corrupt' && typeof out.offset === 'number' && out.offset > 63) {
    throw invalidArgument(`${what}.offset: at most 63 (a report is 64 bytes)`);
  }
  return out as unknown as FaultEffect;
}

function oneOrMany<T>(v: unknown, what: string, check: (x: unknown, w: string) => T): T | T[] {
  if (Array.isArray(v)) {
    if (v.length === 0) throw invalidArgument(`${what}: an empty list matches nothing`);
    return v.map((x, i) => check(x, `${what}[${i}]`));
  }
  return check(v, what);
}

const nameOrByte = (x: unknown, w: string): string | number => {
  if (typeof x === 'string' && x.length > 0) return x;
  if (Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xff) return x as number;
  throw invalidArgument(`${w}: expected a name or a byte, got ${JSON.stringify(x)}`);
};

/** A name must be one the engine can match, or a typo would silently never fire (case-insensitive). */
function knownName(known: readonly string[], kind: string): (x: unknown, w: string) => string | number {
  const lower = new Set(known.map((n) => n.toLowerCase()));
  return (x, w) => {
    const v = nameOrByte(x, w);
    if (typeof v === 'string' && !lower.has(v.toLowerCase())) {
      throw invalidArgument(`${w}: unknown ${kind} ${JSON.stringify(v)} (known: ${known.join(', ')})`);
    }
    return v;
  };
}

/** The U2F (CTAPHID_MSG) command names (facts.ts U2F_COMMAND_NAMES). */
const U2F_COMMANDS = new Set([...U2F_COMMAND_NAMES.values()].map((n) => n.toLowerCase()));
/** Dispatch effects that act on a U2F request (the others read or rewrite a CTAP2 CBOR answer). */
const U2F_DISPATCH_EFFECTS = new Set<EffectType>(['status', 'delay', 'drop']);

/** CTAP and U2F command names, plus the store seam's pseudo-commands outside a request (`when.command`). */
export const RULE_COMMAND_NAMES: readonly string[] = [...ctapCommandNames(), ...U2F_COMMAND_NAMES.values(), 'powerUp', 'control'];
/** CTAPHID command names (`when.hidCommand`). */
export const RULE_HID_COMMAND_NAMES: readonly string[] = Object.keys(CtapHidCmd).map((k) => k.toLowerCase());
const commandRef = knownName(RULE_COMMAND_NAMES, 'command');

/** Whether `when.command` names only U2F commands / only CTAP ones (a byte is a CTAP command byte). */
function commandKinds(when: FaultWhen): { u2fOnly: boolean; ctapOnly: boolean } {
  if (when.command === undefined) return { u2fOnly: false, ctapOnly: false };
  const all = Array.isArray(when.command) ? when.command : [when.command];
  const isU2f = (c: string | number): boolean => typeof c === 'string' && U2F_COMMANDS.has(c.toLowerCase());
  return { u2fOnly: all.every(isU2f), ctapOnly: !all.some(isU2f) };
}

/** A dispatch rule must be able to act on the requests its `when.command` names, or it would never fire. */
function checkDispatchCommands(effect: FaultEffect, when: FaultWhen, what: string): void {
  const { u2fOnly, ctapOnly } = commandKinds(when);
  if (u2fOnly && !U2F_DISPATCH_EFFECTS.has(effect.type)) {
    throw invalidArgument(`${what}.effect: ${effect.type} does not act on U2F requests (only ${[...U2F_DISPATCH_EFFECTS].join(', ')})`);
  }
  if (effect.type !== 'status') return;
  if (u2fOnly && effect.sw === undefined) throw invalidArgument(`${what}.effect.sw: required for U2F commands (a status word, e.g. SW_CONDITIONS_NOT_SATISFIED)`);
  if (ctapOnly && effect.status === undefined) throw invalidArgument(`${what}.effect.status: required for CTAP commands (sw is for U2F ones)`);
}
const hidCommandRef = knownName(RULE_HID_COMMAND_NAMES, 'CTAPHID command');

const nonNegInt = (x: unknown, w: string): number => {
  if (Number.isSafeInteger(x) && (x as number) >= 0) return x as number;
  throw invalidArgument(`${w}: expected a non-negative integer, got ${JSON.stringify(x)}`);
};

const positiveInt = (x: unknown, w: string): number => {
  if (Number.isSafeInteger(x) && (x as number) >= 1) return x as number;
  throw invalidArgument(`${w}: expected a positive integer, got ${JSON.stringify(x)}`);
};

const BASE64URL = /^[A-Za-z0-9_-]*$/;

function parseWhen(raw: unknown, what: string): FaultWhen {
  if (raw === undefined) return {};
  if (!isPlainObject(raw)) throw invalidArgument(`${what}: expected an object of conditions`);
  const w: FaultWhen = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    const at = `${what}.${k}`;
    switch (k) {
      case 'command':
        w.command = oneOrMany(v, at, commandRef);
        break;
      case 'hidCommand':
        w.hidCommand = oneOrMany(v, at, hidCommandRef);
        break;
      case 'subcommand':
        w.subcommand = oneOrMany(v, at, nonNegInt);
        break;
      case 'attempt':
        w.attempt = oneOrMany(v, at, positiveInt);
        break;
      case 'rpId':
        if (typeof v !== 'string' || !v) throw invalidArgument(`${at}: expected an RP ID`);
        w.rpId = v;
        break;
      case 'credential':
        if (typeof v !== 'string' || !v || !BASE64URL.test(v)) throw invalidArgument(`${at}: expected a base64url credential ID`);
        w.credential = v;
        break;
      case 'channel':
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) throw invalidArgument(`${at}: expected a CID (0..0xffffffff)`);
        w.channel = v as number;
        break;
      case 'seq':
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0x7f) throw invalidArgument(`${at}: expected a SEQ (0..127)`);
        w.seq = v as number;
        break;
      case 'listSize': {
        if (!isPlainObject(v)) throw invalidArgument(`${at}: expected { min?, max? }`);
        const ls: { min?: number; max?: number } = {};
        for (const [kk, vv] of Object.entries(v)) {
          if (kk !== 'min' && kk !== 'max') throw invalidArgument(`${at}.${kk}: listSize takes min, max`);
          if (vv !== undefined) ls[kk] = nonNegInt(vv, `${at}.${kk}`);
        }
        w.listSize = ls;
        break;
      }
      case 'modality':
        if (v !== 'fingerprint' && v !== 'face') throw invalidArgument(`${at}: expected fingerprint or face`);
        w.modality = v;
        break;
      case 'direction':
        if (v !== 'in' && v !== 'out') throw invalidArgument(`${at}: expected in or out`);
        w.direction = v;
        break;
      case 'packet':
        if (v !== 'init' && v !== 'cont') throw invalidArgument(`${at}: expected init or cont`);
        w.packet = v;
        break;
      default:
        throw invalidArgument(
          `${at}: unknown condition (known: command, subcommand, rpId, credential, channel, attempt, listSize, modality, direction, hidCommand, packet, seq)`,
        );
    }
  }
  return w;
}

const TRANSPORT_ONLY: readonly (keyof FaultWhen)[] = ['direction', 'hidCommand', 'packet', 'seq'];
const ID = /^[A-Za-z0-9._:#-]{1,64}$/;

/** Validate and normalise; `nextId` names rules that came without an id. */
export function parseRule(input: unknown, nextId: (type: EffectType) => string): FaultRule {
  const what = 'fault';
  if (!isPlainObject(input)) throw invalidArgument(`${what}: expected a rule object { effect, when?, times?, persist?, probability?, id? }`);
  const known = ['id', 'seam', 'when', 'effect', 'times', 'persist', 'probability'];
  for (const k of Object.keys(input)) {
    if (!known.includes(k)) throw invalidArgument(`${what}.${k}: unknown member (known: ${known.join(', ')})`);
  }
  const i = input as unknown as FaultRuleInput;
  if (i.effect === undefined) throw invalidArgument(`${what}.effect: required`);
  const effect = parseEffect(i.effect, `${what}.effect`);
  const seam = EFFECTS[effect.type].seam;
  if (i.seam !== undefined) {
    if (!SEAMS.includes(i.seam)) throw invalidArgument(`${what}.seam: expected one of ${SEAMS.join(', ')}`);
    if (i.seam !== seam) throw invalidArgument(`${what}.seam: ${effect.type} acts at the ${seam} seam, not ${i.seam}`);
  }
  const when = parseWhen(i.when, `${what}.when`);
  if (seam !== 'transport') {
    for (const k of TRANSPORT_ONLY) if (when[k] !== undefined) throw invalidArgument(`${what}.when.${k}: only for transport effects`);
  }
  if (seam === 'dispatch') checkDispatchCommands(effect, when, what);
  if (seam !== 'verification' && when.modality !== undefined) throw invalidArgument(`${what}.when.modality: only for uv.* effects`);
  if (i.persist !== undefined && typeof i.persist !== 'boolean') throw invalidArgument(`${what}.persist: expected true or false`);
  if (i.persist && i.times !== undefined) throw invalidArgument(`${what}: times and persist exclude each other`);
  if (i.times !== undefined && !(Number.isSafeInteger(i.times) && i.times >= 1)) {
    throw invalidArgument(`${what}.times: expected a positive integer, got ${JSON.stringify(i.times)}`);
  }
  if (i.probability !== undefined && !(typeof i.probability === 'number' && i.probability > 0 && i.probability <= 1)) {
    throw invalidArgument(`${what}.probability: expected a number in (0, 1], got ${JSON.stringify(i.probability)}`);
  }
  let id: string;
  if (i.id === undefined) id = nextId(effect.type);
  else if (typeof i.id === 'string' && ID.test(i.id)) id = i.id;
  else throw invalidArgument(`${what}.id: expected 1-64 characters of [A-Za-z0-9._:#-], got ${JSON.stringify(i.id)}`);
  const rule: FaultRule = { id, seam, when, effect, remaining: i.persist ? null : (i.times ?? 1), matched: 0, fired: 0 };
  if (i.times !== undefined) rule.times = i.times;
  if (i.persist) rule.persist = true;
  if (i.probability !== undefined) rule.probability = i.probability;
  return rule;
}
