/**
 * Fault rules and history: the shapes of /work/notes/faults-api.md §2–§4 (JSON values throughout, so the
 * HTTP API and the YAML scenarios use them as they are). Validation: rules.ts; firing: engine.ts.
 */

/** Where a rule acts (DESIGN.md "Faults: at seams, never inside handlers"). */
export type Seam = 'presence' | 'verification' | 'store' | 'dispatch' | 'transport';
export const SEAMS: readonly Seam[] = ['presence', 'verification', 'store', 'dispatch', 'transport'];

export type OneOrMany<T> = T | T[];

/** Conditions, all optional, ANDed (faults-api.md §2 table). */
export interface FaultWhen {
  /**
   * CTAP command name ('getAssertion') or byte (0x02, CTAP commands only); U2F: 'u2fRegister', 'u2fAuthenticate',
   * 'u2fVersion'; store seam outside a request: 'powerUp' / 'control'.
   */
  command?: OneOrMany<string | number>;
  subcommand?: OneOrMany<number>;
  rpId?: string;
  /** base64url credential ID (request allowList / excludeList, or the GA response credential). */
  credential?: string;
  /** CTAPHID channel (CID). */
  channel?: number;
  /** 1-based index of this rule's matching opportunities. */
  attempt?: OneOrMany<number>;
  /** allowList / excludeList length. */
  listSize?: { min?: number; max?: number };
  /** Verification seam: the modality of the attempt. */
  modality?: 'fingerprint' | 'face';
  /** Transport seam: in = host→device, out = device→host. */
  direction?: 'in' | 'out';
  /** Transport seam: CTAPHID command of the message the report belongs to (name or byte without 0x80). */
  hidCommand?: OneOrMany<string | number>;
  /** Transport seam: initialization or continuation packet. */
  packet?: 'init' | 'cont';
  /** Transport seam: continuation SEQ. */
  seq?: number;
}

export type CborFaultMode = 'truncate' | 'nonCanonical' | 'indefinite' | 'dupKey' | 'wrongType' | 'trailing';
export type PowerLossOutcome = 'old' | 'new' | 'random';

/** The effect catalogue (faults-api.md §3). */
export type FaultEffect =
  // presence
  | { type: 'presence.approve'; afterMs?: number }
  | { type: 'presence.deny'; afterMs?: number }
  | { type: 'presence.timeout'; afterMs?: number }
  | { type: 'presence.delay'; ms: number }
  | { type: 'presence.touches'; count: number; intervalMs?: number }
  // verification
  | { type: 'uv.match'; template?: string }
  | { type: 'uv.mismatch' }
  | { type: 'uv.no-sample' }
  | { type: 'uv.sensor-error' }
  | { type: 'uv.delay'; ms: number }
  // store
  | { type: 'store.full' }
  | { type: 'store.powerLoss'; outcome?: PowerLossOutcome }
  /** On a file store outside the temporary directory only with allowDestructive (the file is damaged for good). */
  | { type: 'store.corrupt'; mode?: 'flip' | 'truncate'; allowDestructive?: boolean }
  // dispatch
  /**
   * `status`: the CTAP status byte a CBOR request is answered; `sw`: the status word a U2F (CTAPHID_MSG) request
   * is answered. At least one; the rule fires only for the kind of request it has an answer for.
   */
  | { type: 'status'; status?: number; sw?: number; runHandler?: boolean }
  | { type: 'signature.corrupt' }
  | { type: 'flags'; up?: boolean; uv?: boolean; at?: boolean; ed?: boolean; be?: boolean; bs?: boolean; resign?: boolean }
  | { type: 'rpIdHash'; rpId?: string; resign?: boolean }
  | { type: 'counter'; value?: number; delta?: number; resign?: boolean }
  | { type: 'cbor'; mode: CborFaultMode }
  | { type: 'delay'; ms: number }
  | { type: 'drop'; runHandler?: boolean }
  // transport
  | { type: 'report.drop' }
  | { type: 'report.duplicate' }
  | { type: 'report.reorder' }
  | { type: 'report.truncate'; keep?: number }
  | { type: 'report.corrupt'; offset?: number; xor?: number }
  | { type: 'report.wrongSeq'; seq?: number }
  | { type: 'hid.busy' }
  | { type: 'keepalive.storm'; intervalMs?: number; count?: number; status?: number }
  | { type: 'response.stall'; afterPackets?: number };

export type EffectType = FaultEffect['type'];
export type EffectOf<T extends EffectType> = Extract<FaultEffect, { type: T }>;

/** What a caller passes to faults.add (effect may be a bare type string; status may be a CTAP name). */
export interface FaultRuleInput {
  id?: string;
  seam?: Seam;
  when?: FaultWhen;
  effect: FaultEffect | EffectType | { type: 'status'; status?: number | string; sw?: number | string; runHandler?: boolean };
  times?: number;
  persist?: boolean;
  probability?: number;
}

/** A validated, armed rule (faults.list()). */
export interface FaultRule {
  id: string;
  seam: Seam;
  when: FaultWhen;
  effect: FaultEffect;
  times?: number;
  persist?: boolean;
  probability?: number;
  /** Firings left; null = persist. */
  remaining: number | null;
  /** Opportunities that satisfied `when` (except `attempt`) so far. */
  matched: number;
  fired: number;
}

export interface HistoryEntry {
  seq: number;
  /** ms since the device started (its scheduler); not part of reproducibility comparisons. */
  at: number;
  /** Rule id, or 'control' for state operations. */
  fault: string;
  seam: Seam | 'state';
  /** Effect type, or the control operation name. */
  effect: string;
  command?: string;
  channel?: number;
  rpId?: string;
  detail?: Record<string, unknown>;
}

/**
 * What a rule is matched against. Ports and the dispatch middleware use the facts of the request being
 * served (extracted once by the middleware); the transport adds its own per report.
 */
export interface Facts {
  command?: string;
  commandByte?: number;
  subcommand?: number;
  rpId?: string;
  /** base64url credential IDs named by the request or the response. */
  credentials?: string[];
  channel?: number;
  listSize?: number;
  modality?: 'fingerprint' | 'face';
  direction?: 'in' | 'out';
  hidCommand?: number;
  packet?: 'init' | 'cont';
  seq?: number;
}
