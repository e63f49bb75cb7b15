/**
 * The control commands against a running key (`vfido start` serves the HTTP control API): fault, credentials,
 * state, power-cycle, history, authenticators. Each maps onto one or two HTTP calls (src/control/http);
 * readable output by default, the API's JSON with --json; failures are one line and exit status 1.
 */
import { Command, Option } from 'commander';
import { CORRUPT_TARGETS } from '../../../ctap/authenticator/control.ts';
import type { FaultRule, HistoryEntry } from '../../faults/types.ts';
import type { StateSummary } from '../../control/types.ts';
import type { AuthenticatorDescription } from '../../control/http/registry.ts';
import type { CredentialBody, WebDriverCredential } from '../../control/http/webdriver.ts';
import { CliError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import { faultRuleFromArgs, type FaultAddFlags } from './faultArgs.ts';
import { formatAuthenticators, formatCredential, formatCredentials, formatHistory, formatRule, formatRules, formatState } from './format.ts';
import { call, resolveTarget, type Target, type TargetFlags } from './target.ts';

type SetResult = (p: Promise<number>) => void;

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The options every control command takes. */
function targeted(cmd: Command): Command {
  return cmd
    .option('--control-url <url>', 'control API of the key (env VFIDO_CONTROL_URL; default http://127.0.0.1:8112)')
    .option('--control-port <port>', 'control API port on 127.0.0.1 (env VFIDO_CONTROL_PORT; default 8112)')
    .option('--token <token>', 'control token (env VFIDO_CONTROL_TOKEN; default: read from the token file)')
    .option('--token-file <path>', 'file holding the control token (default: the one vfido start wrote for that port)')
    .option('--authenticator <id>', 'which authenticator (default: "default", the started key)')
    .option('--timeout <ms>', 'how long to wait for an answer (default 10000)')
    .option('--json', 'machine-readable output');
}

export function addControlCommands(program: Command, io: CliIo, setResult: SetResult): void {
  /**
   * An action: commander passes (...positionals, options, command); `fn` gets the target, the command's options
   * and the positionals, and returns what to print (the JSON value for --json, readable text otherwise).
   */
  const run =
    <F, A extends unknown[]>(fn: (t: Target, flags: F, ...args: A) => Promise<{ json: unknown; text: string }>) =>
    (...args: unknown[]): void => {
      const flags = args[args.length - 2] as TargetFlags & F;
      const rest = args.slice(0, -2) as A;
      setResult(
        (async () => {
          const t = await resolveTarget(flags, io.env);
          const out = await call(fn(t, flags, ...rest));
          io.out(t.json ? JSON.stringify(out.json ?? { ok: true }, null, 2) : out.text);
          return 0;
        })(),
      );
    };

  // ---- fault ----
  const fault = program.command('fault').description('arm, list and disarm fault rules of a running key');
  targeted(
    fault
      .command('add [rule]')
      .description('arm a rule: a JSON rule, or --effect with --param / --when / --times / --persist')
      .option('--effect <type>', 'effect type, e.g. presence.deny, uv.mismatch, status, report.drop')
      .option('--param <k=v>', 'effect parameter (repeatable), e.g. --param status=CTAP2_ERR_PIN_INVALID', collect, [])
      .option('--when <k=v>', 'condition (repeatable), e.g. --when command=getAssertion --when attempt=[1,2]', collect, [])
      .option('--times <n>', 'fire this many times, then disarm (default 1)')
      .option('--persist', 'fire on every match, never disarm')
      .option('--probability <p>', 'fire each match with probability 0 < p <= 1 (seeded)')
      .option('--id <id>', 'rule id (default: generated)'),
  ).action(
    run(async (t, flags: FaultAddFlags, rule: string | undefined) => {
      const input = faultRuleFromArgs(rule, flags);
      const armed = await t.client.request<FaultRule>('POST', `${t.base}/faults`, input);
      return { json: armed, text: `armed ${formatRule(armed)}` };
    }),
  );
  targeted(fault.command('list').description('the armed rules')).action(
    run(async (t, _f: unknown) => {
      const rules = await t.client.request<FaultRule[]>('GET', `${t.base}/faults`);
      return { json: rules, text: formatRules(rules) };
    }),
  );

  targeted(fault.command('clear [id]').description('disarm one rule, or all of them')).action(
    run(async (t, _f: unknown, id: string | undefined) => {
      if (id !== undefined) {
        await t.client.request('DELETE', `${t.base}/faults/${encodeURIComponent(id)}`);
        return { json: { removed: 1 }, text: `disarmed ${id}` };
      }
      const r = await t.client.request<{ removed: number }>('DELETE', `${t.base}/faults`);
      return { json: r, text: `disarmed ${r.removed} rule${r.removed === 1 ? '' : 's'}` };
    }),
  );

  // ---- credentials ----
  const creds = program.command('credentials').description('stored credentials of a running key (discoverable and injected non-discoverable)');
  targeted(
    creds
      .command('list')
      .description('list stored credentials (active, deactivated, damaged)')
      .option('--rp-id <rpId>', 'only this relying party')
      .option('--include-private-keys', 'export the private keys too (PKCS#8, base64url)'),
  ).action(
    run(async (t, f: { rpId?: string; includePrivateKeys?: boolean }) => {
      const q = new URLSearchParams();
      if (f.rpId !== undefined) q.set('rpId', f.rpId);
      if (f.includePrivateKeys) q.set('includePrivateKeys', 'true');
      const list = await t.client.request<WebDriverCredential[]>('GET', `${t.base}/credentials${q.size ? `?${q}` : ''}`);
      return { json: list, text: formatCredentials(list) };
    }),
  );

  targeted(
    creds
      .command('add [json]')
      .description('inject a credential: WebDriver Credential Parameters as JSON, or the flags')
      .option('--rp-id <rpId>', 'relying party ID')
      .option('--user-id <base64url>', 'user handle (required for a discoverable credential)')
      .option('--credential-id <base64url>', 'the credential ID (default: minted by the key)')
      .option('--non-discoverable', 'a server-side credential, found only by its ID (WebDriver isResidentCredential false)')
      .option('--user-name <name>', 'user name')
      .option('--display-name <name>', 'user display name')
      .option('--private-key <base64url>', 'PKCS#8 private key (default: generated by the key)')
      .option('--sign-count <n>', 'initial signature counter')
      .addOption(new Option('--alg <alg>', 'COSE algorithm').choices(['-7', '-8'])),
  ).action(
    run(async (t, f: CredentialFlags, json: string | undefined) => {
      const body = credentialBodyFromArgs(json, f);
      const c = await t.client.request<WebDriverCredential>('POST', `${t.base}/credentials`, body);
      return { json: c, text: `added ${formatCredential(c)}` };
    }),
  );

  targeted(creds.command('remove <credentialId>').description('delete a credential for good')).action(
    run(async (t, _f: unknown, id: string) => {
      await t.client.request('DELETE', `${t.base}/credentials/${encodeURIComponent(id)}`);
      return { json: { ok: true }, text: `removed ${id}` };
    }),
  );

  targeted(
    creds
      .command('corrupt <credentialId>')
      .description('damage a stored credential')
      .addOption(new Option('--target <what>', 'what to damage').choices([...CORRUPT_TARGETS]).makeOptionMandatory()),
  ).action(
    run(async (t, { target }: { target: string }, id: string) => {
      const c = await t.client.request<WebDriverCredential>('POST', `${t.base}/credentials/${encodeURIComponent(id)}/corrupt`, { target });
      return { json: c, text: `corrupted (${target}) ${formatCredential(c)}` };
    }),
  );

  for (const op of ['deactivate', 'restore'] as const) {
    targeted(creds.command(`${op} <credentialId>`).description(op === 'deactivate' ? 'take a credential out of service (invisible to look-ups)' : 'put a deactivated or damaged credential back')).action(
      run(async (t, _f: unknown, id: string) => {
        await t.client.request('POST', `${t.base}/credentials/${encodeURIComponent(id)}/${op}`);
        return { json: { ok: true }, text: `${op === 'deactivate' ? 'deactivated' : 'restored'} ${id}` };
      }),
    );
  }

  targeted(
    creds
      .command('counter <credentialId> <value>')
      .description("set a credential's stored signature counter")
      .option('--rp-id <rpId>', 'for a non-discoverable credential: its relying party ID'),
  ).action(
    run(async (t, { rpId }: { rpId?: string }, id: string, value: string) => {
      const n = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new CliError(`counter value must be a non-negative integer, got ${JSON.stringify(value)}`);
      await t.client.request('POST', `${t.base}/credentials/${encodeURIComponent(id)}/counter`, { value: n, ...(rpId !== undefined ? { rpId } : {}) });
      return { json: { ok: true }, text: `counter of ${id} is now ${n}` };
    }),
  );

  // ---- device ----
  targeted(program.command('state').description('PIN / UV / credential / presence state of a running key')).action(
    run(async (t, _f: unknown) => {
      const s = await t.client.request<StateSummary>('GET', `${t.base}/state`);
      return { json: s, text: formatState(s) };
    }),
  );

  targeted(program.command('power-cycle').description('unplug and replug a running key (volatile state is lost)')).action(
    run(async (t, _f: unknown) => {
      await t.client.request('POST', `${t.base}/power-cycle`);
      return { json: { ok: true }, text: 'power-cycled' };
    }),
  );

  targeted(program.command('history').description('fault firings and control operations, oldest first').option('--clear', 'forget the history')).action(
    run(async (t, { clear }: { clear?: boolean }) => {
      if (clear) {
        await t.client.request('DELETE', `${t.base}/history`);
        return { json: { ok: true }, text: 'history cleared' };
      }
      const h = await t.client.request<HistoryEntry[]>('GET', `${t.base}/history`);
      return { json: h, text: formatHistory(h) };
    }),
  );

  targeted(program.command('authenticators').description('the authenticators a running vfido serves')).action(
    run(async (t, _f: unknown) => {
      const list = await t.client.request<AuthenticatorDescription[]>('GET', '/authenticators');
      return { json: list, text: formatAuthenticators(list) };
    }),
  );
}

interface CredentialFlags {
  rpId?: string;
  userId?: string;
  credentialId?: string;
  nonDiscoverable?: boolean;
  userName?: string;
  displayName?: string;
  privateKey?: string;
  signCount?: string;
  alg?: string;
}

function credentialBodyFromArgs(json: string | undefined, f: CredentialFlags): CredentialBody {
  const flagged = Object.entries(f).some(([k, v]) => ['rpId', 'userId', 'credentialId', 'nonDiscoverable', 'userName', 'displayName', 'privateKey', 'signCount', 'alg'].includes(k) && v !== undefined);
  if (json !== undefined) {
    if (flagged) throw new CliError('give either a JSON credential or the --rp-id / --user-id flags, not both');
    try {
      return JSON.parse(json) as CredentialBody;
    } catch (e) {
      // Not the parser's message: it quotes the text around the mistake, which may be the private key.
      const at = /position (\d+)/.exec((e as Error).message)?.[1];
      throw new CliError(`the credential is not valid JSON${at === undefined ? '' : ` (at character ${at})`}`);
    }
  }
  if (f.rpId === undefined || (f.userId === undefined && !f.nonDiscoverable)) {
    throw new CliError('credentials add needs --rp-id and --user-id (--user-id is optional with --non-discoverable), or a JSON credential');
  }
  let signCount: number | undefined;
  if (f.signCount !== undefined) {
    signCount = Number(f.signCount);
    if (!/^\d+$/.test(f.signCount)) throw new CliError(`--sign-count must be a non-negative integer, got ${JSON.stringify(f.signCount)}`);
  }
  return {
    rpId: f.rpId,
    ...(f.userId !== undefined ? { userHandle: f.userId } : {}),
    ...(f.credentialId !== undefined ? { credentialId: f.credentialId } : {}),
    ...(f.nonDiscoverable ? { isResidentCredential: false } : {}),
    ...(f.userName !== undefined ? { userName: f.userName } : {}),
    ...(f.displayName !== undefined ? { userDisplayName: f.displayName } : {}),
    ...(f.privateKey !== undefined ? { privateKey: f.privateKey } : {}),
    ...(signCount !== undefined ? { signCount } : {}),
    ...(f.alg !== undefined ? { alg: Number(f.alg) as -7 | -8 } : {}),
  };
}
