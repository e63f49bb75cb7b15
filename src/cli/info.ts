/** `vfido info`: authenticatorGetInfo of a running key over UDP, printed readably or as JSON. */
import { CtapHidClient, HidClientFailure } from '../client/ctaphid.ts';
import { connectUdp, DEFAULT_UDP_HOST, DEFAULT_UDP_PORT } from '../../transports/udp.ts';
import { CtapCommand, CtapHidCapability, CtapHidCmd } from '../../ctap/constants/commands.ts';
import { CtapStatus, statusName } from '../../ctap/constants/status.ts';
import { decodeCanonical } from '../../ctap/cbor.ts';
import { CliError, nonEmpty, parseMs, parsePort } from './errors.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import { describeInfo, formatInfo } from './infoFormat.ts';
import type { CliIo } from './io.ts';

export interface InfoFlags {
  host?: string;
  port?: string;
  json?: boolean;
  timeout?: string;
}

export const DEFAULT_INFO_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Ask the key at host:port for getInfo; returns the raw response map. */
export async function fetchInfo(host: string, port: number, timeoutMs: number): Promise<Map<number | string, unknown>> {
  const pipe = await connectUdp({ host, port });
  let client: CtapHidClient | undefined;
  try {
    const work = (async () => {
      client = await CtapHidClient.open(pipe, { timeoutMs });
      // CTAP 2.1 §11.2.9.1.3: a key without the CBOR capability speaks only CTAP1/U2F (CTAPHID_MSG).
      if ((client.capabilities & CtapHidCapability.CBOR) === 0) {
        throw new CliError(`the key at udp://${host}:${port} is a U2F-only key: it has no CTAP2 getInfo (CTAPHID capabilities 0x${client.capabilities.toString(16).padStart(2, '0')}, no CBOR)`);
      }
      return client.call(CtapHidCmd.CBOR, new Uint8Array([CtapCommand.authenticatorGetInfo]), { timeoutMs });
    })();
    // Don't leave an unhandled rejection behind when the timeout wins.
    work.catch(() => undefined);
    const noAnswer = (): CliError =>
      new CliError(`no answer from a key at udp://${host}:${port} within ${timeoutMs} ms (is \`vfido start\` running?)`);
    let res: Uint8Array;
    try {
      res = await withTimeout(work, timeoutMs + 100, noAnswer);
    } catch (e) {
      if (e instanceof CliError) throw e;
      if (e instanceof EmulatorError && e.code === HidClientFailure.TIMEOUT) throw noAnswer();
      throw new CliError(`talking to the key at udp://${host}:${port}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const status = res[0];
    if (status !== CtapStatus.CTAP2_OK) throw new CliError(`getInfo failed: ${statusName(status ?? CtapStatus.CTAP1_ERR_OTHER)}`);
    const info = decodeCanonical(res.subarray(1));
    if (!(info instanceof Map)) throw new CliError('getInfo answered something that is not a CBOR map');
    return info;
  } finally {
    client?.close();
    await pipe.closeAsync();
  }
}

export async function runInfo(flags: InfoFlags, io: CliIo): Promise<number> {
  const host = flags.host ?? DEFAULT_UDP_HOST;
  const portText = flags.port ?? nonEmpty(io.env.VFIDO_PORT);
  const port = portText === undefined ? DEFAULT_UDP_PORT : parsePort(portText, flags.port ? '--port' : 'VFIDO_PORT');
  const timeoutMs = flags.timeout === undefined ? DEFAULT_INFO_TIMEOUT_MS : parseMs(flags.timeout, '--timeout');
  const info = await fetchInfo(host, port, timeoutMs);
  const described = describeInfo(info as Parameters<typeof describeInfo>[0]);
  io.out(flags.json ? JSON.stringify(described, null, 2) : formatInfo(described));
  return 0;
}
