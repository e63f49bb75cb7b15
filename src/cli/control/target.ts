/**
 * Which running key a control command talks to: --control-url / --control-port (env VFIDO_CONTROL_URL /
 * VFIDO_CONTROL_PORT; default http://127.0.0.1:8112), the token from --token (env VFIDO_CONTROL_TOKEN) or the
 * token file (--token-file, default the one `vfido start` wrote for that port), and --authenticator (default
 * "default", the started key).
 */
import { EmulatorError } from '../../../ctap/errors.ts';
import { ControlClient, ControlRequestError } from '../../control/http/client.ts';
import { DEFAULT_CONTROL_PORT, defaultTokenPath, readTokenFile } from '../../control/http/tokenFile.ts';
import { errnoCode } from '../../errno.ts';
import { CliError, nonEmpty, parseMs, parsePort } from '../errors.ts';

export interface TargetFlags {
  controlUrl?: string;
  controlPort?: string;
  token?: string;
  tokenFile?: string;
  authenticator?: string;
  timeout?: string;
  json?: boolean;
}

export interface Target {
  client: ControlClient;
  /** `/authenticators/<id>` */
  base: string;
  json: boolean;
}

function controlUrl(flags: TargetFlags, env: NodeJS.ProcessEnv): URL {
  const text = flags.controlUrl ?? (flags.controlPort === undefined ? nonEmpty(env.VFIDO_CONTROL_URL) : undefined);
  if (text !== undefined) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new CliError(`--control-url must be a URL such as http://127.0.0.1:${DEFAULT_CONTROL_PORT}, got ${JSON.stringify(text)}`);
    }
    if (url.protocol !== 'http:') throw new CliError(`--control-url must be an http:// URL, got ${JSON.stringify(text)}`);
    return url;
  }
  const portText = flags.controlPort ?? nonEmpty(env.VFIDO_CONTROL_PORT);
  const port = portText === undefined ? DEFAULT_CONTROL_PORT : parsePort(portText, flags.controlPort ? '--control-port' : 'VFIDO_CONTROL_PORT');
  return new URL(`http://127.0.0.1:${port}`);
}

async function controlToken(flags: TargetFlags, env: NodeJS.ProcessEnv, url: URL): Promise<string> {
  const given = flags.token ?? (flags.tokenFile === undefined ? nonEmpty(env.VFIDO_CONTROL_TOKEN) : undefined);
  if (given !== undefined) return given;
  const file = flags.tokenFile ?? defaultTokenPath(Number(url.port || 80), { env });
  try {
    return await readTokenFile(file);
  } catch (e) {
    const why = errnoCode(e) === 'ENOENT' ? 'does not exist' : e instanceof Error ? e.message : String(e);
    throw new CliError(`no control token: ${file} ${why} (is \`vfido start\` running on ${url.origin}? or pass --token / --token-file)`);
  }
}

export async function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv): Promise<Target> {
  const url = controlUrl(flags, env);
  const token = await controlToken(flags, env, url);
  const id = flags.authenticator ?? 'default';
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new CliError(`--authenticator must be an authenticator id, got ${JSON.stringify(id)}`);
  const timeoutMs = flags.timeout === undefined ? undefined : parseMs(flags.timeout, '--timeout');
  return {
    client: new ControlClient({ url: url.origin, token, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }),
    base: `/authenticators/${id}`,
    json: flags.json === true,
  };
}

/** Control API failures → one CliError line. */
export async function call<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ControlRequestError || e instanceof EmulatorError) throw new CliError(e.message);
    throw e;
  }
}
