/**
 * A small schema language for the scenario files: validators are functions over YAML nodes that return the
 * plain value or INVALID, and report what was expected and what was found at the node's line:column. Unknown
 * keys are errors (a typo must not pass silently), with a "did you mean" when a known key is close.
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { describe, type Ctx } from './source.ts';

export const INVALID: unique symbol = Symbol('invalid');
export type Result<T> = T | typeof INVALID;
export type Validator<T> = (node: Node | null, path: string, ctx: Ctx) => Result<T>;

/** Run `v` on a node, remembering where the field is. */
export function check<T>(v: Validator<T>, node: Node | null, path: string, ctx: Ctx): Result<T> {
  const resolved = ctx.resolve(node);
  ctx.locations.set(path, ctx.pos(node ?? resolved));
  return v(resolved, path, ctx);
}

function fail(ctx: Ctx, node: Node | null, path: string, expected: string, hint = ''): typeof INVALID {
  ctx.issue(node, path, `expected ${expected}, got ${describe(node)}${hint}`);
  return INVALID;
}

function scalar(node: Node | null): unknown {
  return node !== null && isScalar(node) ? node.value : INVALID;
}

// ---- "did you mean" ------------------------------------------------------------------------------------

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The closest candidate within a typo's distance, as ` (did you mean x?)`, or ''. */
export function didYouMean(got: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(got, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  const limit = Math.max(2, Math.floor(got.length / 3));
  return best !== undefined && bestD > 0 && bestD <= limit ? ` (did you mean ${best}?)` : '';
}

// ---- scalars -------------------------------------------------------------------------------------------

/** How a secret (a PIN, a private key) reads in a message: its kind and length, never its value. */
export function describeSecret(node: Node | null): string {
  const v = scalar(node);
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  if (typeof v === 'number') return 'a number (quote it to make it a string)';
  return describe(node);
}

export function str(o: { min?: number; max?: number; pattern?: RegExp; expected?: string; secret?: boolean } = {}): Validator<string> {
  const min = o.min ?? 1;
  const max = o.max ?? 255;
  const expected = o.expected ?? (min > 0 ? 'a non-empty string' : 'a string');
  return (node, path, ctx) => {
    const v = scalar(node);
    const got = o.secret ? describeSecret(node) : describe(node);
    if (typeof v !== 'string') {
      const hint = !o.secret && (typeof v === 'number' || typeof v === 'boolean') ? ` (quote it to make it a string: "${String(v)}")` : '';
      ctx.issue(node, path, `expected ${expected}, got ${got}${hint}`);
      return INVALID;
    }
    if (v.length < min || v.length > max || (o.pattern && !o.pattern.test(v))) {
      ctx.issue(node, path, `expected ${o.expected ?? `a string of ${min} to ${max} characters`}, got ${got}`);
      return INVALID;
    }
    return v;
  };
}

export function int(o: { min?: number; max?: number } = {}): Validator<number> {
  const { min, max } = o;
  const expected =
    min !== undefined && max !== undefined ? `an integer ${min}..${max}` : min !== undefined ? `an integer >= ${min}` : 'an integer';
  return (node, path, ctx) => {
    const v = scalar(node);
    if (!Number.isSafeInteger(v) || (min !== undefined && (v as number) < min) || (max !== undefined && (v as number) > max)) {
      return fail(ctx, node, path, expected);
    }
    return v as number;
  };
}

export function num(o: { min: number; max: number; minExclusive?: boolean }): Validator<number> {
  const expected = `a number ${o.minExclusive ? '>' : '>='} ${o.min} and <= ${o.max}`;
  return (node, path, ctx) => {
    const v = scalar(node);
    if (typeof v !== 'number' || !Number.isFinite(v) || v > o.max || (o.minExclusive ? v <= o.min : v < o.min)) {
      return fail(ctx, node, path, expected);
    }
    return v;
  };
}

export const bool: Validator<boolean> = (node, path, ctx) => {
  const v = scalar(node);
  return typeof v === 'boolean' ? v : fail(ctx, node, path, 'true or false');
};

/** One of fixed strings (case-insensitive if asked: the canonical spelling is returned). */
export function oneOf<T extends string>(values: readonly T[], o: { ignoreCase?: boolean } = {}): Validator<T> {
  return (node, path, ctx) => {
    const v = scalar(node);
    if (typeof v === 'string') {
      const found = values.find((x) => (o.ignoreCase ? x.toLowerCase() === v.toLowerCase() : x === v));
      if (found !== undefined) return found;
      return fail(ctx, node, path, `one of ${values.join(', ')}`, didYouMean(v, values));
    }
    return fail(ctx, node, path, `one of ${values.join(', ')}`);
  };
}

// ---- structures ----------------------------------------------------------------------------------------

export interface Field<T> {
  v: Validator<T>;
  required: boolean;
}
export const req = <T>(v: Validator<T>): Field<T> & { required: true } => ({ v, required: true });
export const opt = <T>(v: Validator<T>): Field<T> & { required: false } => ({ v, required: false });

type Fields = Record<string, Field<unknown>>;
type TypeOf<F> = F extends Field<infer T> ? T : never;
export type ObjectOf<F extends Fields> = {
  [K in keyof F as F[K] extends { required: true } ? K : never]: TypeOf<F[K]>;
} & {
  [K in keyof F as F[K] extends { required: true } ? never : K]?: TypeOf<F[K]>;
};

/**
 * A mapping with exactly these keys (required ones must be there, unknown ones are errors). `secret`: a
 * mapping of secrets (a PIN) — anything else in its place is described by kind and length, never quoted.
 */
export function obj<F extends Fields>(fields: F, o: { expected?: string; secret?: boolean } = {}): Validator<ObjectOf<F>> {
  const known = Object.keys(fields);
  return (node, path, ctx) => {
    if (node === null || !isMap(node)) {
      const expected = o.expected ?? `a mapping with ${known.join(', ')}`;
      if (!o.secret) return fail(ctx, node, path, expected);
      ctx.issue(node, path, `expected ${expected}, got ${describeSecret(node)}`);
      return INVALID;
    }
    const out: Record<string, unknown> = {};
    let ok = true;
    const seen = new Set<string>();
    for (const pair of node.items) {
      const keyNode = ctx.resolve(pair.key as Node | null);
      const key = scalar(keyNode);
      if (typeof key !== 'string') {
        ctx.issue(keyNode, path, `expected a plain key (a name), got ${describe(keyNode)}`);
        ok = false;
        continue;
      }
      const at = path ? `${path}.${key}` : key;
      const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
      if (!field) {
        ctx.issue(keyNode, at, `unknown key, expected one of ${known.join(', ')}${didYouMean(key, known)}`);
        ok = false;
        continue;
      }
      seen.add(key);
      const v = check(field.v, pair.value as Node | null, at, ctx);
      if (v === INVALID) ok = false;
      else out[key] = v;
    }
    for (const k of known) {
      if (fields[k]!.required && !seen.has(k)) {
        ctx.issue(node, path ? `${path}.${k}` : k, 'required, but missing');
        ok = false;
      }
    }
    return ok ? (out as ObjectOf<F>) : INVALID;
  };
}

export function list<T>(item: Validator<T>, o: { min?: number; max?: number; expected?: string } = {}): Validator<T[]> {
  return (node, path, ctx) => {
    if (node === null || !isSeq(node)) return fail(ctx, node, path, o.expected ?? 'a list');
    if (node.items.length < (o.min ?? 0) || node.items.length > (o.max ?? Infinity)) {
      const range = o.max === undefined ? `at least ${o.min}` : `${o.min ?? 0} to ${o.max}`;
      ctx.issue(node, path, `expected a list of ${range} entries, got ${node.items.length}`);
      return INVALID;
    }
    const out: T[] = [];
    let ok = true;
    node.items.forEach((n, i) => {
      const v = check(item, n as Node | null, `${path}[${i}]`, ctx);
      if (v === INVALID) ok = false;
      else out.push(v);
    });
    return ok ? out : INVALID;
  };
}

/** One value or a non-empty list of them. */
export function oneOrMany<T>(item: Validator<T>): Validator<T | T[]> {
  const many = list(item, { min: 1 });
  return (node, path, ctx) => (node !== null && isSeq(node) ? many(node, path, ctx) : item(node, path, ctx));
}

/** Choose by the node's kind: a scalar, a mapping or a list. */
export function byKind<S = never, M = never, Q = never>(
  expected: string,
  kinds: { scalar?: Validator<S>; map?: Validator<M>; seq?: Validator<Q> },
): Validator<S | M | Q> {
  return (node, path, ctx) => {
    const v: Validator<S | M | Q> | undefined = node === null ? undefined : isMap(node) ? kinds.map : isSeq(node) ? kinds.seq : isScalar(node) ? kinds.scalar : undefined;
    return v ? v(node, path, ctx) : fail(ctx, node, path, expected);
  };
}

/** Either of two scalar validators: the first whose type fits (a number, else a string). */
export function numberOrString<N, S>(expected: string, asNumber: Validator<N>, asString: Validator<S>): Validator<N | S> {
  return (node, path, ctx) => {
    const v = scalar(node);
    if (typeof v === 'number') return asNumber(node, path, ctx);
    if (typeof v === 'string') return asString(node, path, ctx);
    return fail(ctx, node, path, expected);
  };
}

/** Map a valid value (e.g. a bare string to an object). */
export function map<A, B>(v: Validator<A>, f: (a: A) => B): Validator<B> {
  return (node, path, ctx) => {
    const a = v(node, path, ctx);
    return a === INVALID ? INVALID : f(a);
  };
}
