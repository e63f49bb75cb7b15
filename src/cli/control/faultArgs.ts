/**
 * `vfido fault add` arguments → a fault rule (faults-api.md §2): either one JSON rule, or
 * `--effect TYPE [--param k=v]… [--when k=v]… [--times N | --persist] [--probability P] [--id ID]`.
 * A value is JSON when it parses as JSON (numbers, booleans, arrays, quoted strings), else the text itself;
 * dotted keys nest (`--when listSize.min=2`). The fault engine validates the result.
 */
import type { FaultRuleInput } from '../../faults/types.ts';
import { CliError } from '../errors.ts';

export interface FaultAddFlags {
  effect?: string;
  param?: string[];
  when?: string[];
  times?: string;
  persist?: boolean;
  probability?: string;
  id?: string;
}

function value(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `a.b=1` pairs → { a: { b: 1 } }. */
export function parsePairs(pairs: readonly string[], option: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq) : '';
    if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(key)) {
      throw new CliError(`${option} must be KEY=VALUE (e.g. ${option} command=getAssertion), got ${JSON.stringify(pair)}`);
    }
    const path = key.split('.');
    let at = out;
    for (const k of path.slice(0, -1)) {
      const next = at[k];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) at[k] = {};
      at = at[k] as Record<string, unknown>;
    }
    at[path[path.length - 1]!] = value(pair.slice(eq + 1));
  }
  return out;
}

function number(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new CliError(`${what} must be a number, got ${JSON.stringify(text)}`);
  return n;
}

export function faultRuleFromArgs(json: string | undefined, f: FaultAddFlags): FaultRuleInput {
  const flagged = f.effect !== undefined || (f.param?.length ?? 0) > 0 || (f.when?.length ?? 0) > 0 || f.times !== undefined || f.persist || f.probability !== undefined || f.id !== undefined;
  if (json !== undefined) {
    if (flagged) throw new CliError('give either a JSON rule or --effect and its options, not both');
    let rule: unknown;
    try {
      rule = JSON.parse(json);
    } catch (e) {
      throw new CliError(`the rule is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw new CliError('the rule must be a JSON object such as {"effect":"presence.deny"}');
    return rule as FaultRuleInput;
  }
  if (f.effect === undefined) throw new CliError('fault add needs a JSON rule or --effect TYPE (e.g. --effect presence.deny)');
  const params = parsePairs(f.param ?? [], '--param');
  const when = parsePairs(f.when ?? [], '--when');
  return {
    ...(f.id !== undefined ? { id: f.id } : {}),
    effect: Object.keys(params).length ? ({ type: f.effect, ...params } as FaultRuleInput['effect']) : (f.effect as FaultRuleInput['effect']),
    ...(Object.keys(when).length ? { when } : {}),
    ...(f.times !== undefined ? { times: number(f.times, '--times') } : {}),
    ...(f.persist ? { persist: true } : {}),
    ...(f.probability !== undefined ? { probability: number(f.probability, '--probability') } : {}),
  };
}
