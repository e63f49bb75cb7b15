/**
 * The `faults:` list of a scenario: the fault rules of /work/notes/faults-api.md §2–§3 written in YAML. The
 * effect catalogue is the fault engine's own (src/faults/rules.ts EFFECTS): its types and parameters are
 * checked here with line:column, then every rule goes through the engine's parseRule, whose verdict (seam
 * agreement, transport-only conditions, counter value/delta, …) is mapped back to the rule's position.
 */
import { isMap, isScalar, type Node } from 'yaml';
import { CtapStatus } from '../../ctap/constants/status.ts';
import { U2fStatus } from '../../ctap/u2f/apdu.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import { MAX_DELAY_MS } from '../limits.ts';
import { EFFECT_TYPES, EFFECTS, parseRule, RULE_COMMAND_NAMES, RULE_HID_COMMAND_NAMES } from '../faults/rules.ts';
import { SEAMS, type EffectType, type FaultRuleInput, type FaultWhen } from '../faults/types.ts';
import { describe, type Ctx } from './source.ts';
import {
  bool,
  check,
  didYouMean,
  int,
  INVALID,
  num,
  numberOrString,
  obj,
  oneOf,
  oneOrMany,
  opt,
  req,
  str,
  type Field,
  type Validator,
} from './validate.ts';

/** The names the fault engine accepts (src/faults/rules.ts): one list, so the schema never drifts from the engine. */
export const COMMAND_NAMES = RULE_COMMAND_NAMES;
const HID_COMMAND_NAMES = RULE_HID_COMMAND_NAMES;
const STATUS_NAMES = Object.keys(CtapStatus);

const byte = int({ min: 0, max: 0xff });
const commandRef = numberOrString('a command name or byte', byte, oneOf(COMMAND_NAMES, { ignoreCase: true }));
const hidCommandRef = numberOrString('a CTAPHID command name or byte', byte, oneOf(HID_COMMAND_NAMES, { ignoreCase: true }));

/** Rule ids: as the engine accepts them. */
export const RULE_ID = /^[A-Za-z0-9._:#-]{1,64}$/;

const whenFields = {
  command: opt(oneOrMany(commandRef)),
  subcommand: opt(oneOrMany(byte)),
  rpId: opt(str()),
  /** A credential ID (base64url) or the name of a credential declared under state.credentials. */
  credential: opt(str({ pattern: /^[A-Za-z0-9_-]+$/, expected: 'a credential name or a base64url credential ID' })),
  channel: opt(int({ min: 0, max: 0xffffffff })),
  attempt: opt(oneOrMany(int({ min: 1 }))),
  listSize: opt(obj({ min: opt(int({ min: 0 })), max: opt(int({ min: 0 })) })),
  modality: opt(oneOf(['fingerprint', 'face'] as const)),
  direction: opt(oneOf(['in', 'out'] as const)),
  hidCommand: opt(oneOrMany(hidCommandRef)),
  packet: opt(oneOf(['init', 'cont'] as const)),
  seq: opt(int({ min: 0, max: 0x7f })),
} satisfies Record<keyof FaultWhen, Field<unknown>>;

const whenSchema = obj(whenFields, { expected: 'a mapping of conditions' });

const STATUS_EXPECTED = 'a status byte (0..255) or a CTAP status name such as CTAP2_ERR_NO_CREDENTIALS';

/** A CTAP status: a byte or its name (the full list of names is too long for a message: the nearest is offered). */
const statusRef: Validator<number | string> = (node, path, ctx) => {
  const v = node !== null && isScalar(node) ? node.value : undefined;
  if (typeof v === 'number') return int({ min: 0, max: 0xff })(node, path, ctx);
  if (typeof v === 'string' && STATUS_NAMES.includes(v)) return v;
  ctx.issue(node, path, `expected ${STATUS_EXPECTED}, got ${describe(node)}${typeof v === 'string' ? didYouMean(v, STATUS_NAMES) : ''}`);
  return INVALID;
};

const SW_NAMES = Object.keys(U2fStatus);

/** A U2F status word: 0..0xffff or its name (SW_CONDITIONS_NOT_SATISFIED). */
const swRef: Validator<number | string> = (node, path, ctx) => {
  const v = node !== null && isScalar(node) ? node.value : undefined;
  if (typeof v === 'number') return int({ min: 0, max: 0xffff })(node, path, ctx);
  if (typeof v === 'string' && SW_NAMES.includes(v)) return v;
  ctx.issue(
    node,
    path,
    `expected a U2F status word (0..0xffff) or its name such as SW_CONDITIONS_NOT_SATISFIED, got ${describe(node)}${typeof v === 'string' ? didYouMean(v, SW_NAMES) : ''}`,
  );
  return INVALID;
};

/** A validator for one parameter kind of the engine's catalogue (unknown kinds: any scalar; parseRule decides). */
function paramValidator(kind: unknown): Validator<unknown> {
  if (Array.isArray(kind)) return oneOf(kind as string[]);
  switch (kind) {
    case 'ms':
      return num({ min: 0, max: MAX_DELAY_MS });
    case 'positive':
      return int({ min: 1 });
    case 'uint':
      return int({ min: 0 });
    case 'int':
      return int();
    case 'byte':
      return byte;
    case 'bool':
      return bool;
    case 'string':
      return str();
    case 'status':
      return statusRef;
    case 'sw':
      return swRef;
    default:
      return (node, path, ctx) => {
        if (node !== null && isScalar(node)) return node.value;
        ctx.issue(node, path, `expected a value, got ${describe(node)}`);
        return INVALID;
      };
  }
}

function effectType(node: Node | null, path: string, ctx: Ctx): EffectType | typeof INVALID {
  return check(oneOf(EFFECT_TYPES), node, path, ctx);
}

/** `effect: presence.deny` or `effect: { type: presence.delay, ms: 500 }`. */
const effectSchema: Validator<FaultRuleInput['effect']> = (node, path, ctx) => {
  if (node !== null && isScalar(node) && typeof node.value === 'string') {
    const type = effectType(node, path, ctx);
    if (type === INVALID) return INVALID;
    const required = type === 'status' ? ['status (or sw)'] : (EFFECTS[type].required ?? []);
    if (required.length) {
      ctx.issue(node, path, `${type} needs ${required.join(', ')}: write { type: ${type}, ${required.map((k) => `${k}: …`).join(', ')} }`);
      return INVALID;
    }
    return type;
  }
  if (node === null || !isMap(node)) {
    ctx.issue(node, path, `expected an effect type or a mapping { type, …parameters }, got ${describe(node)}`);
    return INVALID;
  }
  const typePair = node.items.find((p) => isScalar(p.key) && p.key.value === 'type');
  if (!typePair) {
    ctx.issue(node, `${path}.type`, 'required, but missing');
    return INVALID;
  }
  const type = effectType(typePair.value as Node | null, `${path}.type`, ctx);
  if (type === INVALID) return INVALID;
  const spec = EFFECTS[type];
  const fields: Record<string, Field<unknown>> = { type: req(oneOf([type])) };
  for (const [k, kind] of Object.entries(spec.params)) {
    fields[k] = (spec.required ?? []).includes(k) ? req(paramValidator(kind)) : opt(paramValidator(kind));
  }
  const effect = obj(fields)(node, path, ctx) as FaultRuleInput['effect'] | typeof INVALID;
  // status answers CBOR requests, sw U2F ones: a status effect needs at least one of them.
  const answers = effect !== INVALID && typeof effect === 'object' ? (effect as { status?: unknown; sw?: unknown }) : undefined;
  if (type === 'status' && answers && answers.status === undefined && answers.sw === undefined) {
    ctx.issue(node, path, 'status needs status (a CTAP status, for CBOR requests) or sw (a U2F status word), or both');
    return INVALID;
  }
  return effect;
};

const ruleFields = {
  id: opt(str({ pattern: RULE_ID, expected: '1-64 characters of A-Z a-z 0-9 . _ : # -' })),
  seam: opt(oneOf(SEAMS)),
  when: opt(whenSchema),
  effect: req(effectSchema),
  times: opt(int({ min: 1 })),
  persist: opt(bool),
  probability: opt(num({ min: 0, max: 1, minExclusive: true })),
} satisfies Record<keyof FaultRuleInput, Field<unknown>>;

const ruleShape = obj(ruleFields, { expected: 'a fault rule { effect, when?, times?, persist?, probability?, id? }' });

/** One rule: its shape here, then the engine's own validation (messages mapped to this rule's fields). */
export const faultRuleSchema: Validator<FaultRuleInput> = (node, path, ctx) => {
  const shaped = ruleShape(node, path, ctx);
  if (shaped === INVALID) return INVALID;
  const rule = shaped as FaultRuleInput;
  try {
    parseRule(rule, (t) => `${t}#0`);
  } catch (e) {
    if (!(e instanceof EmulatorError)) throw e;
    const m = /^fault((?:[.[][^:]*)?): ([\s\S]*)$/.exec(e.message);
    if (m) ctx.issueAt(`${path}${m[1]}`, m[2]!);
    else ctx.issueAt(path, e.message);
    return INVALID;
  }
  return rule;
};
