/**
 * Reading scenario files: YAML text → a validated Scenario (schema.ts), or a ScenarioError that lists every
 * problem as `file:line:col: field: expected …, got …`.
 */
import { readFile } from 'node:fs/promises';
import { EmulatorError } from '../../ctap/errors.ts';
import { scenarioFromYaml, type Scenario } from './schema.ts';
import { formatIssue, parseYaml, type ScenarioIssue } from './source.ts';

export const SCENARIO_ERROR = 'EMU_ERR_INVALID_SCENARIO';

/** A scenario that is not valid (or could not be applied): one message line per issue. */
export class ScenarioError extends EmulatorError {
  readonly issues: readonly ScenarioIssue[];
  constructor(issues: ScenarioIssue[], options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? SCENARIO_ERROR, issues.map(formatIssue).join('\n'), options);
    this.name = 'ScenarioError';
    this.issues = issues;
  }
}

/** Parse and validate a scenario; `file` names it in messages (default `<scenario>`). Throws ScenarioError. */
export function parseScenario(text: string, file = '<scenario>'): Scenario {
  const { ctx, root } = parseYaml(text, file);
  const scenario = root === null && ctx.issues.length ? undefined : scenarioFromYaml(root, file, ctx);
  if (!scenario || ctx.issues.length) throw new ScenarioError(ctx.issues);
  return scenario;
}

/** Read a scenario file (messages name it as given). */
export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new ScenarioError([{ file: path, line: 0, col: 0, path: '', message: `cannot read the scenario file (${code})` }], {
      cause: e,
      code: 'EMU_ERR_SCENARIO_UNREADABLE',
    });
  }
  return parseScenario(text, path);
}
