/**
 * A scenario file as YAML nodes with positions: parse with the `yaml` Document API (a LineCounter turns
 * offsets into 1-based line:column), and collect every problem as an issue `file:line:col: path: message`
 * instead of stopping at the first, so one run shows all the typos of a file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

/**
 * One problem in a scenario file. `path` is the field (e.g. `faults[1].effect.type`), empty for the whole file;
 * line 0 = no position (the file could not be read).
 */
export interface ScenarioIssue extends Position {
  file: string;
  path: string;
  message: string;
}

export function formatIssue(i: ScenarioIssue): string {
  const at = i.line > 0 ? `:${i.line}:${i.col}` : '';
  return `${i.file}${at}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** The parsed document plus what validation learns: issues, and where each validated field sits. */
export class Ctx {
  readonly issues: ScenarioIssue[] = [];
  /** Field path → position of its value (or of its mapping, for a field that is missing). */
  readonly locations = new Map<string, Position>();

  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** Where a node starts (1-based); the file start for no node. */
  pos(node: Node | null | undefined): Position {
    const offset = node?.range?.[0] ?? 0;
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /** Follow an alias (`*anchor`) to the node it names. */
  resolve(node: Node | null | undefined): Node | null {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return node;
  }

  issue(where: Node | Position | null | undefined, path: string, message: string): void {
    const p = where !== null && where !== undefined && 'line' in where ? where : this.pos(where);
    this.issues.push({ file: this.file, line: p.line, col: p.col, path, message });
  }

  /** Report at a field validated earlier (or its nearest recorded parent: `a.b[2].c` → `a.b[2]` → `a.b` → `a`). */
  issueAt(path: string, message: string): void {
    this.issue(this.near(path), path, message);
  }

  near(path: string): Position {
    return nearest(this.locations, path);
  }
}

/** The position of `path`, or of its nearest recorded parent; 1:1 if none. */
export function nearest(locations: ReadonlyMap<string, Position>, path: string): Position {
  for (let p = path; p; p = parentPath(p)) {
    const found = locations.get(p);
    if (found) return found;
  }
  return { line: 1, col: 1 };
}

function parentPath(path: string): string {
  const i = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return i <= 0 ? '' : path.slice(0, i);
}

/** How a node reads in a message: `"text"`, `42`, `true`, `null`, `a mapping`, `a list`. */
export function describe(node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
    return `a ${node.tag ?? typeof v} value`;
  }
  return 'an unknown node';
}

/** Parse YAML text; syntax errors become issues (then `root` is null). */
export function parseYaml(text: string, file: string): { ctx: Ctx; root: Node | null } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, strict: true });
  const ctx = new Ctx(file, doc, lines);
  for (const e of doc.errors) {
    const p = e.linePos?.[0] ?? { line: 1, col: 1 };
    ctx.issue({ line: p.line, col: p.col }, '', `YAML: ${firstLine(e.message)}`);
  }
  for (const w of doc.warnings) {
    const p = w.linePos?.[0] ?? { line: 1, col: 1 };
    ctx.issue({ line: p.line, col: p.col }, '', `YAML: ${firstLine(w.message)}`);
  }
  return { ctx, root: ctx.issues.length ? null : ctx.resolve(doc.contents as Node | null) };
}

function firstLine(s: string): string {
  // yaml appends " at line L, column C" (we print the position in front) and, when pretty, a code frame.
  return (s.split('\n')[0] ?? s).replace(/ at line \d+, column \d+:?$/, '');
}
