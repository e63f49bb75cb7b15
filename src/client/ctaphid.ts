/**
 * A CTAPHID client (host side of CTAP 2.1 §11.2): opens a channel with a broadcast INIT, frames requests
 * into 64-byte reports, reassembles responses, reports KEEPALIVEs, sends CANCEL when asked to abort.
 * Used by the conformance suite, `vfido info` and the benchmarks, over any ReportPipe (memory, UDP, node-hid).
 *
 * Errors: a CTAPHID_ERROR from the device → CtapHidClientError (numeric `code`, e.g. 0x06 CHANNEL_BUSY).
 * Everything else (timeout, a response that breaks framing, undecodable CBOR, closed) → EmulatorError with
 * one of the HidClientFailure codes. CTAP status bytes are data, not errors: call() and cbor() return them.
 * One request at a time per client: concurrent calls are queued in order.
 */
import { CtapHidCmd, CtapHidError, HID_BROADCAST_CID, HID_MAX_MESSAGE_SIZE } from '../../ctap/constants/commands.ts';
import { EmulatorError } from '../../ctap/errors.ts';
import { concat, equal, readU32be } from '../../ctap/bytes.ts';
import { decodeCanonical, encode, type CborValue } from '../../ctap/cbor.ts';
import { MessageAssembler } from '../../ctap/hid/assembler.ts';
import { decodePacket, encodeInitPacket, fragmentMessage, packetDataByte } from '../../ctap/hid/packet.ts';

/** The client end of a transport: raw 64-byte reports, no report-ID byte. */
export interface ReportPipe {
  send(report: Uint8Array): void;
  /** Register the (single) receiver of incoming reports. */
  onReport(cb: (report: Uint8Array) => void): void;
  close?(): void;
}

export interface CallOptions {
  /** Called with the status byte of every KEEPALIVE received while waiting (1 PROCESSING, 2 UPNEEDED). */
  onKeepalive?(status: number): void;
  /** Aborting sends CTAPHID_CANCEL on the channel; the call still resolves with the device's answer. */
  signal?: AbortSignal;
  /** Silence allowed before giving up, restarted by every KEEPALIVE. Default: the client's timeout. */
  timeoutMs?: number;
}

export interface InitResponse {
  nonce: Uint8Array;
  cid: number;
  /** CTAPHID protocol version (2). */
  protocolVersion: number;
  version: { major: number; minor: number; build: number };
  capabilities: number;
}

/** Codes of the EmulatorErrors this client throws. */
export const HidClientFailure = {
  TIMEOUT: 'EMU_ERR_HID_TIMEOUT',
  PROTOCOL: 'EMU_ERR_HID_PROTOCOL',
  BAD_CBOR: 'EMU_ERR_HID_BAD_CBOR',
  CLOSED: 'EMU_ERR_HID_CLOSED',
} as const;

const errorNames = new Map<number, string>(Object.entries(CtapHidError).map(([k, v]) => [v, k]));

/** The device answered CTAPHID_ERROR. `code` is the CTAPHID error code (CtapHidError). */
export class CtapHidClientError extends Error {
  readonly code: number;
  readonly cid: number;
  constructor(code: number, cid: number) {
    const name = errorNames.get(code) ?? 'UNKNOWN';
    super(`CTAPHID_ERROR ${name} (0x${hex(code, 2)}) on channel 0x${hex(cid, 8)}`);
    this.name = 'CtapHidClientError';
    this.code = code;
    this.cid = cid;
  }
}

export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;
/** CTAP 2.1 §11.2.9.1.3: the INIT response payload is exactly 17 bytes. */
const INIT_RESPONSE_SIZE = 17;

/** Parse a 17-byte INIT response; undefined when the length is wrong. */
export function parseInitResponse(payload: Uint8Array): InitResponse | undefined {
  if (payload.length !== INIT_RESPONSE_SIZE) return undefined;
  return {
    nonce: payload.slice(0, 8),
    cid: readU32be(payload, 8),
    protocolVersion: payload[12]!,
    version: { major: payload[13]!, minor: payload[14]!, build: payload[15]! },
    capabilities: payload[16]!,
  };
}

/** Routes incoming reports to the exchange waiting for them (the pipe accepts one receiver). */
class Receiver {
  current: ((report: Uint8Array) => void) | undefined;
  constructor(pipe: ReportPipe) {
    pipe.onReport((r) => this.current?.(r));
  }
}

interface Exchange {
  cid: number;
  cmd: number;
  payload: Uint8Array;
  timeoutMs: number;
  onKeepalive?: (status: number) => void;
  signal?: AbortSignal;
  /** For INIT: responses that fail this are skipped and reading goes on (Chromium does the same). */
  accept?: (payload: Uint8Array) => boolean;
}

export class CtapHidClient {
  readonly cid: number;
  private info: InitResponse;
  /** Requests run one after another; this settles when the last queued one has. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Rejects the exchange in flight (close()). */
  private abortCurrent: ((err: Error) => void) | undefined;
  private closed = false;

  private constructor(
    private readonly pipe: ReportPipe,
    private readonly receiver: Receiver,
    info: InitResponse,
    private readonly timeoutMs: number,
  ) {
    this.cid = info.cid;
    this.info = info;
  }

  /** Allocate a channel: broadcast INIT with a random nonce; replies with another nonce are skipped. */
  static async open(pipe: ReportPipe, opts: { timeoutMs?: number } = {}): Promise<CtapHidClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CLIENT_TIMEOUT_MS;
    const receiver = new Receiver(pipe);
    const nonce = randomNonce();
    const payload = await exchange(pipe, receiver, {
      cid: HID_BROADCAST_CID,
      cmd: CtapHidCmd.INIT,
      payload: nonce,
      timeoutMs,
      accept: (p) => p.length === INIT_RESPONSE_SIZE && equal(p.subarray(0, 8), nonce),
    });
    const info = parseInitResponse(payload)!;
    // CTAP 2.1 §11.2.3: 0 and 0xFFFFFFFF are never channel IDs.
    if (info.cid === 0 || info.cid === HID_BROADCAST_CID)
      throw new EmulatorError(HidClientFailure.PROTOCOL, `INIT allocated the reserved CID 0x${hex(info.cid, 8)}`);
    return new CtapHidClient(pipe, receiver, info, timeoutMs);
  }

  get capabilities(): number {
    return this.info.capabilities;
  }

  get version(): { major: number; minor: number; build: number } {
    return { ...this.info.version };
  }

  get protocolVersion(): number {
    return this.info.protocolVersion;
  }

  /**
   * Send one request and return the response payload. KEEPALIVEs are skipped (and reported);
   * CTAPHID_ERROR throws CtapHidClientError; the response must carry the request's command.
   */
  call(cmd: number, payload: Uint8Array, opts: CallOptions = {}): Promise<Uint8Array> {
    return this.enqueue(() =>
      exchange(this.pipe, this.receiver, {
        cid: this.cid,
        cmd,
        payload,
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
        ...(opts.onKeepalive ? { onKeepalive: opts.onKeepalive } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }, (reject) => (this.abortCurrent = reject)),
    );
  }

  /**
   * authenticator API over CTAPHID_CBOR: `params` (if given) is encoded canonically after the command byte;
   * the response's CBOR (if any) is decoded strictly (canonical form required).
   */
  async cbor(command: number, params?: unknown, opts?: CallOptions): Promise<{ status: number; data?: CborValue }> {
    const body = params === undefined ? new Uint8Array(0) : encode(params);
    const res = await this.call(CtapHidCmd.CBOR, concat(Uint8Array.of(command), body), opts);
    if (res.length === 0)
      throw new EmulatorError(HidClientFailure.PROTOCOL, 'empty CTAPHID_CBOR response (no status byte)');
    const status = res[0]!;
    if (res.length === 1) return { status };
    try {
      return { status, data: decodeCanonical(res.subarray(1), 16) };
    } catch (e) {
      const what = `response to command 0x${hex(command, 2)} is not canonical CBOR`;
      throw new EmulatorError(HidClientFailure.BAD_CBOR, what, { cause: e });
    }
  }

  /** CTAPHID_PING: returns what the device echoed (not checked here, so tests can see corruption). */
  ping(data: Uint8Array, opts?: CallOptions): Promise<Uint8Array> {
    return this.call(CtapHidCmd.PING, data, opts);
  }

  async wink(opts?: CallOptions): Promise<void> {
    await this.call(CtapHidCmd.WINK, new Uint8Array(0), opts);
  }

  /** CTAPHID_LOCK for `seconds` (0 releases). */
  async lock(seconds: number, opts?: CallOptions): Promise<void> {
    await this.call(CtapHidCmd.LOCK, Uint8Array.of(seconds), opts);
  }

  /** Resynchronise this channel (INIT on its own CID); the device must answer with the same CID. */
  async init(opts: { timeoutMs?: number } = {}): Promise<InitResponse> {
    const nonce = randomNonce();
    const payload = await this.enqueue(() =>
      exchange(this.pipe, this.receiver, {
        cid: this.cid,
        cmd: CtapHidCmd.INIT,
        payload: nonce,
        timeoutMs: opts.timeoutMs ?? this.timeoutMs,
        accept: (p) => p.length === INIT_RESPONSE_SIZE && equal(p.subarray(0, 8), nonce),
      }, (reject) => (this.abortCurrent = reject)),
    );
    const info = parseInitResponse(payload)!;
    // CTAP 2.1 §11.2.9.1.3: INIT on an allocated channel "returns the same CID".
    if (info.cid !== this.cid)
      throw new EmulatorError(
        HidClientFailure.PROTOCOL,
        `resync answered CID 0x${hex(info.cid, 8)}, expected 0x${hex(this.cid, 8)}`,
      );
    this.info = info;
    return info;
  }

  /** Send CTAPHID_CANCEL on this channel now (never answered by the device). */
  cancel(): void {
    if (!this.closed) this.pipe.send(encodeInitPacket(this.cid, CtapHidCmd.CANCEL, 0, new Uint8Array(0)));
  }

  /** Fail the request in flight and queued ones, and close the pipe. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abortCurrent?.(new EmulatorError(HidClientFailure.CLOSED, 'CTAPHID client closed'));
    this.pipe.close?.();
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const next = this.tail.then(() => {
      if (this.closed) throw new EmulatorError(HidClientFailure.CLOSED, 'CTAPHID client closed');
      return run();
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** One request/response on `x.cid`. `bindReject` receives a way to fail it from outside (close()). */
function exchange(
  pipe: ReportPipe,
  receiver: Receiver,
  x: Exchange,
  bindReject?: (reject: (err: Error) => void) => void,
): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    if (x.signal?.aborted) return reject(x.signal.reason ?? new Error('aborted'));
    let reports: Uint8Array[];
    try {
      reports = fragmentMessage(x.cid, x.cmd, x.payload);
    } catch (e) {
      return reject(e);
    }
    new ExchangeRun(pipe, receiver, x, resolve, reject).start(reports, bindReject);
  });
}

/**
 * The state of one exchange in flight: the response being reassembled and the silence timer. One object per
 * request with its handlers bound once (a request costs no closures beyond them, and KEEPALIVEs restart the
 * one timer instead of replacing it).
 */
class ExchangeRun {
  private asm: MessageAssembler | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Receives this channel's reports while the exchange is in flight. */
  private readonly onReport: (report: Uint8Array) => void;
  /** CTAP 2.1 §11.2.9.1.5: CANCEL is never answered; the pending request answers KEEPALIVE_CANCEL. */
  private readonly onAbort: () => void;

  constructor(
    private readonly pipe: ReportPipe,
    private readonly receiver: Receiver,
    private readonly x: Exchange,
    private readonly resolve: (value: Uint8Array) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.onReport = (report) => this.report(report);
    this.onAbort = () => this.abort();
  }

  start(reports: Uint8Array[], bindReject?: (reject: (err: Error) => void) => void): void {
    const x = this.x;
    this.receiver.current = this.onReport;
    bindReject?.((err) => this.done(err));
    x.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.arm();
    try {
      for (const r of reports) this.pipe.send(r);
    } catch (e) {
      this.done(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private abort(): void {
    try {
      this.pipe.send(encodeInitPacket(this.x.cid, CtapHidCmd.CANCEL, 0, new Uint8Array(0)));
    } catch (e) {
      this.done(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private done(err: Error | undefined, value?: Uint8Array): void {
    clearTimeout(this.timer);
    this.x.signal?.removeEventListener('abort', this.onAbort);
    if (this.receiver.current === this.onReport) this.receiver.current = undefined;
    if (err) this.reject(err);
    else this.resolve(value!);
  }

  private protocol(what: string): void {
    this.done(new EmulatorError(HidClientFailure.PROTOCOL, `${what} (channel 0x${hex(this.x.cid, 8)})`));
  }

  /** (Re)start the silence timer: the exchange fails after timeoutMs without a report. */
  private arm(): void {
    if (this.timer) {
      this.timer.refresh();
      return;
    }
    const x = this.x;
    this.timer = setTimeout(
      () => this.done(new EmulatorError(HidClientFailure.TIMEOUT, `no answer on channel 0x${hex(x.cid, 8)} within ${x.timeoutMs} ms`)),
      x.timeoutMs,
    );
  }

  private complete(msg: Uint8Array): void {
    if (this.x.accept && !this.x.accept(msg)) return; // not ours (e.g. another INIT's nonce): keep reading
    this.done(undefined, msg);
  }

  private report(report: Uint8Array): void {
    const x = this.x;
    const pkt = decodePacket(report);
    if (!pkt || pkt.cid !== x.cid) return; // other channels' traffic is not ours
    if (pkt.kind === 'cont') {
      const asm = this.asm;
      if (!asm) return;
      const r = asm.add(pkt);
      if (r === 'bad-seq') return this.protocol(`response continuation with SEQ ${pkt.seq}, expected ${asm.continuations}`);
      if (r === 'complete') {
        const msg = asm.message();
        this.asm = undefined;
        this.complete(msg);
      }
      return;
    }
    if (this.asm) return this.protocol('new init packet before the response was complete');
    if (pkt.cmd === CtapHidCmd.KEEPALIVE) {
      // CTAP 2.1 §11.2.9.1.7: keepalives may precede the response; each restarts our patience.
      this.arm();
      x.onKeepalive?.(packetDataByte(pkt, 0)!);
      return;
    }
    // CTAP 2.1 §11.2.9.1.6: ERROR carries a 1-byte code.
    if (pkt.cmd === CtapHidCmd.ERROR) return this.done(new CtapHidClientError(packetDataByte(pkt, 0)!, x.cid));
    if (pkt.cmd !== x.cmd) return this.protocol(`response command 0x${hex(pkt.cmd, 2)} to request 0x${hex(x.cmd, 2)}`);
    if (pkt.bcnt > HID_MAX_MESSAGE_SIZE) return this.protocol(`response BCNT ${pkt.bcnt} exceeds ${HID_MAX_MESSAGE_SIZE}`);
    const a = new MessageAssembler(pkt);
    if (a.complete) return this.complete(a.message());
    this.asm = a;
  }
}

function randomNonce(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(8));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
