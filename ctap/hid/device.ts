/**
 * The CTAPHID channel layer (CTAP 2.1 §11.2, "USB Human Interface Device"): a pure state machine that takes
 * 64-byte output reports from peers and answers with 64-byte input reports. It assembles messages, routes
 * them by CID, enforces the busy / lock / timeout rules, keeps the host informed with KEEPALIVE and hands
 * CBOR and MSG payloads to the application. Time comes only from the injected Scheduler.
 *
 * Device-wide state (ws-style named states, one step per state):
 *   idle        no transaction; the first init packet of a valid request starts one.
 *   assembling  a request's init packet arrived; continuation packets are awaited (inter-packet timer).
 *   processing  a complete CBOR/MSG request is with the application; KEEPALIVEs flow until it answers.
 * PING, WINK and LOCK are answered as soon as their message is complete; INIT and CANCEL are never
 * transactions (CTAP 2.1 §11.2.9.1.3 / §11.2.9.1.5): they act on their init packet alone, in any state.
 *
 * Decisions where the spec is silent or loose (each is tested):
 * - Reports that are not exactly 64 bytes are ignored, no reply (§11.2.4 fixes the report size; such input
 *   cannot come from a HID host, and a reply could not name a channel reliably).
 * - CANCEL is never answered, not even on an invalid channel (§11.2.9.1.5 "MUST NOT reply").
 * - INIT is handled in every state: a broadcast INIT allocates a channel even while another channel's
 *   transaction runs or a LOCK is held (hardware does the same); an INIT on one's own channel resyncs it.
 *   A resync keeps a LOCK held by that channel (it expires on its own, at most 10 s).
 * - A new request on the channel whose request the application is still processing gets CHANNEL_BUSY.
 * - Continuation packets that do not continue the message being assembled (no prior init packet, another
 *   CID, another peer) are ignored, so a client refused with CHANNEL_BUSY gets one error, not one per packet.
 * - The inter-packet timeout restarts with every accepted packet (a stall, not a slow sender, is punished).
 * - ERR_LOCK_REQUIRED is never sent: CTAP 2.1 defines no command that needs a lock.
 * - The application is never called while an earlier call is unsettled: after a resync or power cycle
 *   aborts a call, a new CBOR/MSG request waits for it (with KEEPALIVEs) before reaching the application.
 * - A CBOR request cancelled before the application saw it is answered CTAP2_ERR_KEEPALIVE_CANCEL.
 * - Application results that cannot be framed (empty, or larger than the message limit) and MSG rejections
 *   are errors: CBOR → status CTAP1_ERR_OTHER, MSG → ERROR ERR_OTHER; both are reported through onError.
 */
import type { RequestContext, Rng, Scheduler } from '../authenticator/env.ts';
import {
  CtapHidCapability,
  CtapHidCmd,
  CtapHidError,
  HID_BROADCAST_CID,
  HID_MAX_MESSAGE_SIZE,
  HID_PROTOCOL_VERSION,
  KeepaliveStatus,
  type CtapHidErrorCode,
} from '../constants/commands.ts';
import { CtapStatus } from '../constants/status.ts';
import { isCtapError } from '../errors.ts';
import { u32be } from '../bytes.ts';
import { MessageAssembler } from './assembler.ts';
import { ChannelTable } from './channels.ts';
import { decodePacket, encodeInitPacket, fragmentMessage, type ContPacket, type InitPacket } from './packet.ts';

/** What the channel layer serves: the CTAP2 dispatcher, the U2F layer and an identification signal. */
export interface HidApplication {
  /**
   * payload = CTAP command byte || CBOR parameters; resolves to status byte || CBOR response. Absent (a U2F-only
   * key): CAPABILITY_CBOR is clear and CBOR is refused with ERR_INVALID_CMD.
   */
  cbor?(payload: Uint8Array, ctx: RequestContext): Promise<Uint8Array>;
  /** A CTAP1/U2F APDU; resolves to the response APDU. Absent: CAPABILITY_NMSG is set and MSG is refused. */
  msg?(payload: Uint8Array, ctx: RequestContext): Promise<Uint8Array>;
  /** Identification signal. Present: CAPABILITY_WINK is set. */
  wink?(): void;
}

export type HidErrorSource = 'app' | 'send' | 'internal';

export interface CtapHidDeviceOptions {
  app: HidApplication;
  scheduler: Scheduler;
  /** Randomness for CID allocation. */
  rng: Rng;
  /** Deliver one input report (always exactly 64 bytes) to a peer. */
  send(report: Uint8Array, peer: string): void;
  /** Device version reported by INIT (default 0.1.0). */
  version?: { major: number; minor: number; build: number };
  /** Inter-packet timeout of a partial request, default 500 ms (CHECKLIST A15). */
  msgTimeoutMs?: number;
  /** KEEPALIVE period while a CBOR/MSG request is pending, default 100 ms (CHECKLIST A27). */
  keepaliveIntervalMs?: number;
  /** Largest request/response accepted, default and maximum 7609 (CHECKLIST A6). */
  maxMessageSize?: number;
  /** Channels kept at once; the least recently used unpinned one is evicted beyond it. Default 1024. */
  maxChannels?: number;
  /**
   * Errors the device absorbs rather than throws: application rejections that are not CtapError (bugs,
   * answered CTAP1_ERR_OTHER), a throwing `send`, and internal faults. Default: ignored.
   */
  onError?(err: unknown, source: HidErrorSource): void;
}

interface Idle {
  kind: 'idle';
}

interface Assembling {
  kind: 'assembling';
  /** Peer whose channel is sending the request. */
  peer: string;
  /** The message being put together (holds CID and command). */
  asm: MessageAssembler;
  /** When the message times out: MSG_TIMEOUT after the last accepted packet (scheduler time). */
  deadline: number;
  /**
   * Cancels the inter-packet timer. One timer per message: a packet only moves `deadline`, and a timer that
   * fires before it starts again for the rest (a timer per packet cost more than the packet).
   */
  cancelTimer: () => void;
}

interface Processing {
  kind: 'processing';
  /** Peer that receives the KEEPALIVEs and the response. */
  peer: string;
  /** Channel of the request. */
  cid: number;
  /** CtapHidCmd.CBOR or CtapHidCmd.MSG: the response is sent with the same command. */
  cmd: number;
  /** The request bytes handed to the application. */
  payload: Uint8Array;
  /** Aborted by CANCEL on this channel, by a resync, a power cycle or close(). */
  abort: AbortController;
  /** Status repeated in KEEPALIVE (changed by ctx.keepalive). */
  status: KeepaliveStatus;
  /** Whether the application has been called (false while an aborted earlier call still settles). */
  appStarted: boolean;
  /** When the next periodic KEEPALIVE is due (scheduler time); a status change sends one and moves it. */
  keepaliveAt: number;
  /** Cancels the keepalive timer (one per request: it starts again for the rest when `keepaliveAt` moved). */
  cancelKeepalive: () => void;
}

type State = Idle | Assembling | Processing;

interface Lock {
  /** Channel holding the lock; every other channel gets CHANNEL_BUSY. */
  cid: number;
  /** Cancels the expiry timer. */
  cancelTimer: () => void;
}

const IDLE: Idle = { kind: 'idle' };
/** CTAP 2.1 §11.2.9.1.3: INIT request payload is an 8-byte nonce. */
const INIT_NONCE_SIZE = 8;
/** CTAP 2.1 §11.2.9.2.2 (CTAPHID_LOCK): "a lock time up to 10 seconds". */
const MAX_LOCK_SECONDS = 10;

const noop = (): void => {};

/**
 * A timer that fires less than this before its moved due time counts as due: a real timer runs on the event
 * loop's cached clock, which can lag the scheduler's by a fraction of a millisecond, and starting again for
 * such a rest would only add a timer tick of delay.
 */
const TIMER_SLACK_MS = 1;

export class CtapHidDevice {
  /** CTAPHID_INIT capability byte: CBOR iff app.cbor, WINK iff app.wink, NMSG iff no app.msg. */
  readonly capabilities: number;

  private readonly app: HidApplication;
  private readonly scheduler: Scheduler;
  private readonly rng: Rng;
  private readonly sendReport: (report: Uint8Array, peer: string) => void;
  private readonly onError: (err: unknown, source: HidErrorSource) => void;
  private readonly version: { major: number; minor: number; build: number };
  private readonly msgTimeoutMs: number;
  private readonly keepaliveIntervalMs: number;
  private readonly maxMessageSize: number;

  /** Allocated channels and their owning peers. */
  private readonly channels: ChannelTable;
  /** The device-wide transaction state. */
  private state: State = IDLE;
  /** LOCK held by one channel, if any. */
  private lock: Lock | undefined;
  /** Settles when the application call in flight (current or aborted) settles; undefined when none. */
  private appCall: Promise<void> | undefined;
  /** Reports waiting to be sent, in order (a send callback may re-enter handleReport). */
  private readonly outbox: { report: Uint8Array; peer: string }[] = [];
  /** True while flush() drains the outbox (re-entrant calls only enqueue). */
  private flushing = false;
  /** Set by close(): every later input is ignored. */
  private closed = false;

  constructor(opts: CtapHidDeviceOptions) {
    this.app = opts.app;
    this.scheduler = opts.scheduler;
    this.rng = opts.rng;
    this.sendReport = opts.send;
    this.onError = opts.onError ?? noop;
    this.version = opts.version ?? { major: 0, minor: 1, build: 0 };
    this.msgTimeoutMs = positive(opts.msgTimeoutMs ?? 500, 'msgTimeoutMs');
    this.keepaliveIntervalMs = positive(opts.keepaliveIntervalMs ?? 100, 'keepaliveIntervalMs');
    this.maxMessageSize = opts.maxMessageSize ?? HID_MAX_MESSAGE_SIZE;
    // CTAP 2.1 §11.2.4: SEQ stops at 0x7F, so no message can exceed 57 + 128 × 59 = 7609 bytes.
    if (!Number.isInteger(this.maxMessageSize) || this.maxMessageSize < 1 || this.maxMessageSize > HID_MAX_MESSAGE_SIZE)
      throw new RangeError(`maxMessageSize must be 1..${HID_MAX_MESSAGE_SIZE}, got ${this.maxMessageSize}`);
    this.channels = new ChannelTable(opts.maxChannels ?? 1024);
    // CTAP 2.1 §11.2.9.1.3: CAPABILITY_CBOR if CTAPHID_CBOR is implemented, _WINK if WINK is,
    // _NMSG if CTAPHID_MSG is NOT implemented.
    this.capabilities =
      (opts.app.cbor ? CtapHidCapability.CBOR : 0) |
      (opts.app.wink ? CtapHidCapability.WINK : 0) |
      (opts.app.msg ? 0 : CtapHidCapability.NMSG);
  }

  // ---- introspection (read-only, for tests and the control API) ----

  /** 'idle' | 'assembling' | 'processing'. */
  get phase(): State['kind'] {
    return this.state.kind;
  }

  /** A transaction is in progress: other channels get CHANNEL_BUSY. */
  get busy(): boolean {
    return this.state.kind !== 'idle';
  }

  /** Number of allocated channels. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** The peer owning `cid`, or undefined when the CID is not allocated. */
  channelOwner(cid: number): string | undefined {
    return this.channels.ownerOf(cid);
  }

  /** Channel holding a LOCK, if any. */
  get lockedBy(): number | undefined {
    return this.lock?.cid;
  }

  // ---- inputs ----

  /** Feed one output report from `peer`. Never throws; replies go out through `send`. */
  handleReport(report: Uint8Array, peer: string): void {
    if (this.closed) return;
    this.guard(() => this.receive(report, peer));
  }

  /**
   * Drop everything volatile as a power loss would: the transaction in flight (its application call is
   * aborted and its result discarded), partial messages, the LOCK and all timers. `keepChannels: true`
   * keeps CID allocations, as a host still connected (the UDP "cable" stays plugged) would expect.
   */
  powerCycle(opts: { keepChannels: boolean }): void {
    if (this.closed) return;
    this.guard(() => {
      this.abandon();
      this.releaseLock();
      this.outbox.length = 0;
      if (!opts.keepChannels) this.channels.clear();
    });
  }

  /** Stop: cancel all timers, abort the application call, ignore further input. */
  close(): void {
    if (this.closed) return;
    this.guard(() => {
      this.abandon();
      this.releaseLock();
    });
    this.outbox.length = 0;
    this.closed = true;
  }

  // ---- dispatch ----

  private receive(report: Uint8Array, peer: string): void {
    const pkt = decodePacket(report);
    if (!pkt) return; // not a 64-byte report: ignored (see header)
    if (pkt.kind === 'cont') return this.onContinuation(pkt, peer);
    if (pkt.cmd === CtapHidCmd.INIT) return this.onInit(pkt, peer);
    if (pkt.cmd === CtapHidCmd.CANCEL) return this.onCancel(pkt, peer);
    // CTAP 2.1 §11.2.3: CID 0 is reserved and broadcast is for INIT only; CHECKLIST A10 (OpenSK
    // has_valid_channel): anything else on them or on a CID this peer did not allocate → ERR_INVALID_CHANNEL.
    if (this.channels.ownerOf(pkt.cid) !== peer) return this.sendError(peer, pkt.cid, CtapHidError.ERR_INVALID_CHANNEL);
    switch (this.state.kind) {
      case 'idle':
        return this.stepIdle(pkt, peer);
      case 'assembling':
        return this.stepAssembling(this.state, pkt, peer);
      case 'processing':
        return this.stepProcessing(this.state, pkt, peer);
    }
  }

  /** idle: the first init packet of a request starts a transaction. */
  private stepIdle(pkt: InitPacket, peer: string): void {
    // CTAP 2.1 §11.2.6 / §11.2.9.2.2: while a channel holds the lock, other channels get ERR_CHANNEL_BUSY.
    if (this.lock && this.lock.cid !== pkt.cid) return this.sendError(peer, pkt.cid, CtapHidError.ERR_CHANNEL_BUSY);
    // CTAP 2.1 §11.2.9.1: unknown commands (and MSG/WINK when not implemented) → ERR_INVALID_CMD.
    if (!this.implements(pkt.cmd)) return this.sendError(peer, pkt.cid, CtapHidError.ERR_INVALID_CMD);
    // CTAP 2.1 §11.2.4: a message longer than the device accepts → ERR_INVALID_LEN.
    if (pkt.bcnt > this.maxMessageSize) return this.sendError(peer, pkt.cid, CtapHidError.ERR_INVALID_LEN);
    this.channels.touch(pkt.cid);
    const asm = new MessageAssembler(pkt);
    if (asm.complete) return this.execute(peer, pkt.cid, pkt.cmd, asm.message());
    const st: Assembling = { kind: 'assembling', peer, asm, deadline: this.scheduler.now() + this.msgTimeoutMs, cancelTimer: noop };
    this.state = st;
    this.startMsgTimer(st, this.msgTimeoutMs);
  }

  /** assembling: an init packet (not INIT/CANCEL) arrived from a valid channel. */
  private stepAssembling(st: Assembling, pkt: InitPacket, peer: string): void {
    if (pkt.cid === st.asm.cid) {
      // CTAP 2.1 §11.2.5.4, CHECKLIST A13 (OpenSK): a new init packet on the channel mid-assembly aborts it
      // with ERR_INVALID_SEQ.
      this.toIdle();
      return this.sendError(peer, pkt.cid, CtapHidError.ERR_INVALID_SEQ);
    }
    // CTAP 2.1 §11.2.5.1: another channel during a transaction "immediately fail[s] with a busy-error".
    this.sendError(peer, pkt.cid, CtapHidError.ERR_CHANNEL_BUSY);
  }

  /** processing: any new request (its own channel's included) is refused until the response is sent. */
  private stepProcessing(_st: Processing, pkt: InitPacket, peer: string): void {
    // CTAP 2.1 §11.2.5.1: the transaction lasts until the last response packet; CHECKLIST A12: this covers
    // the time the application waits for the user.
    this.sendError(peer, pkt.cid, CtapHidError.ERR_CHANNEL_BUSY);
  }

  /** Continuation packets only matter while assembling the same channel's message. */
  private onContinuation(pkt: ContPacket, peer: string): void {
    const st = this.state;
    // CTAP 2.1 §11.2.4: spurious continuation packets (no init packet before them) are ignored.
    if (st.kind !== 'assembling' || st.asm.cid !== pkt.cid || st.peer !== peer) return;
    const r = st.asm.add(pkt);
    if (r === 'bad-seq') {
      // CTAP 2.1 §11.2.5.4, CHECKLIST A13: wrong SEQ aborts the message with ERR_INVALID_SEQ.
      this.toIdle();
      return this.sendError(peer, pkt.cid, CtapHidError.ERR_INVALID_SEQ);
    }
    // CHECKLIST A15: the inter-packet timeout restarts with every accepted packet.
    if (r === 'more') {
      st.deadline = this.scheduler.now() + this.msgTimeoutMs;
      return;
    }
    this.toIdle();
    this.execute(peer, st.asm.cid, st.asm.cmd, st.asm.message());
  }

  /** CTAP 2.1 §11.2.9.1.3 CTAPHID_INIT: allocate a channel (broadcast) or resync one's own channel. */
  private onInit(pkt: InitPacket, peer: string): void {
    const broadcast = pkt.cid === HID_BROADCAST_CID;
    if (!broadcast && this.channels.ownerOf(pkt.cid) !== peer)
      return this.sendError(peer, pkt.cid, CtapHidError.ERR_INVALID_CHANNEL);
    // CTAP 2.1 §11.2.9.1.3: the request is an 8-byte nonce; CHECKLIST A17: other lengths → ERR_INVALID_LEN.
    if (pkt.bcnt !== INIT_NONCE_SIZE) return this.sendError(peer, pkt.cid, CtapHidError.ERR_INVALID_LEN);
    const nonce = pkt.data.slice(0, INIT_NONCE_SIZE);
    let cid: number;
    if (broadcast) {
      // "the device allocates a unique channel ID" (during its lifetime).
      cid = this.channels.allocate(peer, this.rng, (c) => this.pinned(c));
    } else {
      // CTAP 2.1 §11.2.5.3: "synchronizes a channel, discarding the current transaction, buffers and state as
      // quickly as possible".
      cid = pkt.cid;
      if (this.transactionCid() === cid) this.abandon();
      this.channels.touch(cid);
    }
    // Response: nonce(8) | CID(4) | CTAPHID protocol version | major | minor | build | capabilities = 17 bytes,
    // sent on the channel the INIT came in on (broadcast when allocating).
    const v = this.version;
    const reply = new Uint8Array(17);
    reply.set(nonce, 0);
    reply.set(u32be(cid), 8);
    reply.set([HID_PROTOCOL_VERSION, v.major & 0xff, v.minor & 0xff, v.build & 0xff, this.capabilities], 12);
    this.sendMessage(peer, pkt.cid, CtapHidCmd.INIT, reply);
  }

  /** CTAP 2.1 §11.2.9.1.5 CTAPHID_CANCEL: abort this channel's pending request; never answered. */
  private onCancel(pkt: InitPacket, peer: string): void {
    const st = this.state;
    // "A CANCEL received while no CBOR request is being processed, or on a non-active CID SHALL be ignored."
    if (st.kind !== 'processing' || st.cid !== pkt.cid || st.peer !== peer) return;
    // "the authenticator MUST cancel it and that cancelled request will reply with CTAP2_ERR_KEEPALIVE_CANCEL"
    st.abort.abort();
    // A CBOR request still waiting for an aborted earlier call is answered here; an MSG one reaches the
    // application with its signal already aborted (U2F has no cancel status of its own).
    if (!st.appStarted && st.cmd === CtapHidCmd.CBOR)
      this.finish(st, { ok: true, value: new Uint8Array([CtapStatus.CTAP2_ERR_KEEPALIVE_CANCEL]) });
  }

  /** A complete request message on a valid channel. */
  private execute(peer: string, cid: number, cmd: number, payload: Uint8Array): void {
    switch (cmd) {
      case CtapHidCmd.PING:
        // CTAP 2.1 §11.2.9.1.4: the response echoes the request payload.
        return this.sendMessage(peer, cid, CtapHidCmd.PING, payload);
      case CtapHidCmd.WINK:
        // CTAP 2.1 §11.2.9.2.1: WINK has an empty request and an empty response.
        if (payload.length !== 0) return this.sendError(peer, cid, CtapHidError.ERR_INVALID_LEN);
        try {
          this.app.wink?.();
        } catch (e) {
          this.report(e, 'app');
        }
        return this.sendMessage(peer, cid, CtapHidCmd.WINK, new Uint8Array(0));
      case CtapHidCmd.LOCK:
        return this.execLock(peer, cid, payload);
      case CtapHidCmd.CBOR:
      case CtapHidCmd.MSG:
        // A CBOR request starts with a command byte and an APDU has a header: nothing is not a request.
        if (payload.length === 0) return this.sendError(peer, cid, CtapHidError.ERR_INVALID_LEN);
        return this.startProcessing(peer, cid, cmd, payload);
      default:
        // Unreachable: stepIdle only admits implemented commands.
        return this.sendError(peer, cid, CtapHidError.ERR_INVALID_CMD);
    }
  }

  /** CTAP 2.1 §11.2.9.2.2 CTAPHID_LOCK (§11.2.6): 1 byte, seconds 0..10; 0 releases. */
  private execLock(peer: string, cid: number, payload: Uint8Array): void {
    if (payload.length !== 1) return this.sendError(peer, cid, CtapHidError.ERR_INVALID_LEN);
    const seconds = payload[0]!;
    if (seconds > MAX_LOCK_SECONDS) return this.sendError(peer, cid, CtapHidError.ERR_INVALID_PAR);
    this.releaseLock();
    if (seconds > 0) {
      const lock: Lock = { cid, cancelTimer: noop };
      lock.cancelTimer = this.scheduler.setTimer(seconds * 1000, () =>
        this.guard(() => {
          if (this.lock === lock) this.lock = undefined;
        }),
      );
      this.lock = lock;
    }
    this.sendMessage(peer, cid, CtapHidCmd.LOCK, new Uint8Array(0));
  }

  // ---- processing (CBOR / MSG) ----

  private startProcessing(peer: string, cid: number, cmd: number, payload: Uint8Array): void {
    const st: Processing = {
      kind: 'processing',
      peer,
      cid,
      cmd,
      payload,
      abort: new AbortController(),
      status: KeepaliveStatus.PROCESSING,
      appStarted: false,
      keepaliveAt: this.scheduler.now() + this.keepaliveIntervalMs,
      cancelKeepalive: noop,
    };
    this.state = st;
    this.startKeepaliveTimer(st, this.keepaliveIntervalMs);
    this.startApp(st);
  }

  /** Hand the request to the application, after any earlier (aborted) call has settled. */
  private startApp(st: Processing): void {
    if (this.state !== st || st.appStarted) return;
    const prev = this.appCall;
    if (prev) {
      void prev.then(() => this.guard(() => this.startApp(st)));
      return;
    }
    st.appStarted = true;
    const ctx: RequestContext = {
      channel: st.cid,
      signal: st.abort.signal,
      keepalive: (status) => this.guard(() => this.onAppKeepalive(st, status)),
    };
    let p: Promise<Uint8Array>;
    try {
      p = st.cmd === CtapHidCmd.CBOR ? this.app.cbor!(st.payload, ctx) : this.app.msg!(st.payload, ctx);
    } catch (e) {
      p = Promise.reject(e);
    }
    const settled: Promise<void> = Promise.resolve(p).then(
      (value) => this.guard(() => this.finish(st, { ok: true, value })),
      (error: unknown) => this.guard(() => this.finish(st, { ok: false, error })),
    );
    const tracked = settled.then(() => {
      if (this.appCall === tracked) this.appCall = undefined;
    });
    this.appCall = tracked;
  }

  /** The application answered (or the request was cancelled before it saw it): send the response. */
  private finish(st: Processing, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
    if (this.state !== st) return; // resynced, power-cycled or closed meanwhile: the result is discarded
    this.toIdle();
    const { peer, cid, cmd } = st;
    const value = outcome.ok ? outcome.value : undefined;
    if (value instanceof Uint8Array && value.length > 0 && value.length <= this.maxMessageSize) {
      // CTAP 2.1 §11.2.9.1.2 (CBOR) / §11.2.9.1.1 (MSG): the response goes out with the request's command.
      return this.sendMessage(peer, cid, cmd, value);
    }
    if (cmd === CtapHidCmd.CBOR && !outcome.ok && isCtapError(outcome.error) && isByte(outcome.error.status)) {
      // CTAP 2.1 §8 (Message encoding), CHECKLIST B0.2: an error response is the single status byte.
      return this.sendMessage(peer, cid, cmd, new Uint8Array([outcome.error.status]));
    }
    this.report(
      outcome.ok ? new RangeError(`application returned an unframeable ${describe(value)} response`) : outcome.error,
      'app',
    );
    if (cmd === CtapHidCmd.CBOR) return this.sendMessage(peer, cid, cmd, new Uint8Array([CtapStatus.CTAP1_ERR_OTHER]));
    this.sendError(peer, cid, CtapHidError.ERR_OTHER);
  }

  /** ctx.keepalive(status): a status change is announced at once (§11.2.9.1.7), then repeated. */
  private onAppKeepalive(st: Processing, status: KeepaliveStatus): void {
    if (this.state !== st) return;
    if (status !== KeepaliveStatus.PROCESSING && status !== KeepaliveStatus.UPNEEDED) return;
    if (status === st.status) return;
    st.status = status;
    this.sendKeepalive(st);
    // The period restarts with this KEEPALIVE; the running timer starts again for the rest when it fires.
    st.keepaliveAt = this.scheduler.now() + this.keepaliveIntervalMs;
  }

  /** CTAP 2.1 §11.2.9.1.7: KEEPALIVE "at least every 100ms and whenever the status changes" (CHECKLIST A27). */
  private startKeepaliveTimer(st: Processing, ms: number): void {
    st.cancelKeepalive = this.scheduler.setTimer(ms, () =>
      this.guard(() => {
        if (this.state !== st) return;
        const left = st.keepaliveAt - this.scheduler.now();
        if (left >= TIMER_SLACK_MS) return this.startKeepaliveTimer(st, left); // a status change moved the period
        this.sendKeepalive(st);
        st.keepaliveAt = this.scheduler.now() + this.keepaliveIntervalMs;
        this.startKeepaliveTimer(st, this.keepaliveIntervalMs);
      }),
    );
  }

  private sendKeepalive(st: Processing): void {
    this.sendMessage(st.peer, st.cid, CtapHidCmd.KEEPALIVE, new Uint8Array([st.status]));
  }

  // ---- timers and state helpers ----

  /** CTAP 2.1 §11.2.5.2, CHECKLIST A15: a stalled partial message is dropped, ERR_MSG_TIMEOUT sent unprompted. */
  private startMsgTimer(st: Assembling, ms: number): void {
    st.cancelTimer = this.scheduler.setTimer(ms, () =>
      this.guard(() => {
        if (this.state !== st) return;
        const left = st.deadline - this.scheduler.now();
        if (left >= TIMER_SLACK_MS) return this.startMsgTimer(st, left); // packets arrived since: wait for the rest
        this.toIdle();
        this.sendError(st.peer, st.asm.cid, CtapHidError.ERR_MSG_TIMEOUT);
      }),
    );
  }

  /** Leave the current state for idle, cancelling its timers (does not abort the application). */
  private toIdle(): void {
    const st = this.state;
    if (st.kind === 'assembling') st.cancelTimer();
    if (st.kind === 'processing') st.cancelKeepalive();
    this.state = IDLE;
  }

  /** Discard the transaction in flight, aborting its application call. */
  private abandon(): void {
    const st = this.state;
    this.toIdle();
    if (st.kind === 'processing') st.abort.abort();
  }

  private releaseLock(): void {
    this.lock?.cancelTimer();
    this.lock = undefined;
  }

  private transactionCid(): number | undefined {
    const st = this.state;
    return st.kind === 'assembling' ? st.asm.cid : st.kind === 'processing' ? st.cid : undefined;
  }

  /** Channels that must survive eviction: the one in a transaction and the lock holder. */
  private pinned(cid: number): boolean {
    return cid === this.transactionCid() || cid === this.lock?.cid;
  }

  private implements(cmd: number): boolean {
    switch (cmd) {
      case CtapHidCmd.PING:
      case CtapHidCmd.LOCK:
        return true;
      case CtapHidCmd.CBOR:
        return this.app.cbor !== undefined; // CHECKLIST A20: a U2F-only device has no CBOR → ERR_INVALID_CMD
      case CtapHidCmd.MSG:
        return this.app.msg !== undefined; // CHECKLIST A22: NMSG set → ERR_INVALID_CMD
      case CtapHidCmd.WINK:
        return this.app.wink !== undefined;
      default:
        return false; // KEEPALIVE and ERROR go device → host only; vendor commands are not implemented
    }
  }

  // ---- output ----

  /** CTAP 2.1 §11.2.9.1.6: CTAPHID_ERROR carries exactly one byte, the error code. */
  private sendError(peer: string, cid: number, code: CtapHidErrorCode): void {
    this.outbox.push({ report: encodeInitPacket(cid, CtapHidCmd.ERROR, 1, new Uint8Array([code])), peer });
  }

  private sendMessage(peer: string, cid: number, cmd: number, payload: Uint8Array): void {
    for (const report of fragmentMessage(cid, cmd, payload)) this.outbox.push({ report, peer });
  }

  /** Send queued reports in order. State is final before this runs, so a re-entrant handleReport is safe. */
  private flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let out = this.outbox.shift(); out; out = this.outbox.shift()) {
        try {
          this.sendReport(out.report, out.peer);
        } catch (e) {
          this.report(e, 'send');
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Run a state transition: internal faults are reported, never thrown; queued output is flushed. */
  private guard(fn: () => void): void {
    if (this.closed) return;
    try {
      fn();
    } catch (e) {
      this.report(e, 'internal');
    }
    this.flush();
  }

  private report(err: unknown, source: HidErrorSource): void {
    try {
      this.onError(err, source);
    } catch {
      // an onError that throws has nowhere left to report to
    }
  }
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0)
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${n}`);
  return n;
}

function isByte(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xff;
}

function describe(v: unknown): string {
  return v instanceof Uint8Array ? `${v.length}-byte` : typeof v;
}
