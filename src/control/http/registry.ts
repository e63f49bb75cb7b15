/**
 * The authenticators a control server holds: devices attached by the host program (the CLI's started key,
 * "default") and devices created over HTTP (each its own startDevice with a memory store and a UDP endpoint),
 * which the registry owns and closes on DELETE or when the server closes.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { EmulatorError } from '../../../ctap/errors.ts';
import { profileNames, startDevice, type Device } from '../../device.ts';
import { errnoCode } from '../../errno.ts';
import type { FaultRule, FaultRuleInput } from '../../faults/types.ts';
import { badRequest, HttpError } from './errors.ts';
import {
  checkAgainstProfile,
  DEFAULT_BACKUP_RULE_ID,
  extensionsOf,
  planAuthenticator,
  protocolOf,
  type AuthenticatorBody,
  type BackupFlags,
} from './webdriver.ts';

export interface AuthenticatorEntry {
  readonly id: string;
  readonly device: Device;
  /** Created over HTTP: the registry closes it. Attached devices belong to the host program. */
  readonly owned: boolean;
  /** Last value set through isUserVerified (WebDriver); undefined = never set. */
  isUserVerified?: boolean;
}

/** GET /authenticators/:id — WebDriver's options as this device has them, plus vfido's. */
export interface AuthenticatorDescription {
  authenticatorId: string;
  profile: string;
  protocol: string;
  transport: 'usb';
  hasResidentKey: boolean;
  hasUserVerification: boolean;
  isUserConsenting: boolean;
  isUserVerified?: boolean;
  extensions: string[];
  defaultBackupEligibility: boolean;
  defaultBackupState: boolean;
  udp?: { host: string; port: number };
  removable: boolean;
}

export interface RegistryOptions {
  logger: Logger;
  allowRemote: boolean;
  /** Most authenticators created over HTTP at once (default 32). */
  maxAuthenticators?: number;
}

const BACKUP_COMMANDS = ['makeCredential', 'getAssertion', 'getNextAssertion'];

/** The id of the `flags` rule carrying one credential's backupEligibility / backupState (fits the rule id syntax). */
export function propsRuleId(credentialId: string): string {
  return `webdriver.props:${createHash('sha256').update(credentialId).digest('base64url').slice(0, 22)}`;
}

function flagsOf(rule: FaultRule | undefined): { be?: boolean; bs?: boolean } {
  return rule?.effect.type === 'flags' ? { ...(rule.effect.be !== undefined ? { be: rule.effect.be } : {}), ...(rule.effect.bs !== undefined ? { bs: rule.effect.bs } : {}) } : {};
}

export class AuthenticatorRegistry {
  readonly #entries = new Map<string, AuthenticatorEntry>();
  readonly #o: Required<RegistryOptions>;

  constructor(o: RegistryOptions) {
    this.#o = { maxAuthenticators: 32, ...o };
  }

  /** Serve a device the host program started (it keeps ownership: DELETE refuses, close() leaves it running). */
  attach(id: string, device: Device): void {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) throw new EmulatorError('EMU_ERR_INVALID_ARGUMENT', `authenticator id: letters, digits, . _ - (1..64), got ${JSON.stringify(id)}`);
    if (this.#entries.has(id)) throw new EmulatorError('EMU_ERR_INVALID_ARGUMENT', `authenticator id ${JSON.stringify(id)} is taken`);
    this.#entries.set(id, { id, device, owned: false });
  }

  list(): AuthenticatorEntry[] {
    return [...this.#entries.values()];
  }

  get(id: string): AuthenticatorEntry {
    const e = this.#entries.get(id);
    if (!e) throw new HttpError(404, 'EMU_ERR_UNKNOWN_AUTHENTICATOR', `no authenticator with id ${JSON.stringify(id)}`);
    return e;
  }

  async create(body: AuthenticatorBody): Promise<AuthenticatorEntry> {
    if (body.profile !== undefined && !profileNames().includes(body.profile)) {
      throw badRequest(`profile: unknown profile ${JSON.stringify(body.profile)} (known: ${profileNames().join(', ')})`);
    }
    const plan = planAuthenticator(body, { allowRemote: this.#o.allowRemote });
    if (this.list().filter((e) => e.owned).length >= this.#o.maxAuthenticators) {
      throw new HttpError(409, 'EMU_ERR_LIMIT', `at most ${this.#o.maxAuthenticators} authenticators can be created; delete one first`);
    }
    const id = randomUUID();
    const log = this.#o.logger.child({ authenticator: id });
    let device: Device;
    try {
      device = await startDevice({ ...plan.options, logger: log });
    } catch (e) {
      if (e instanceof EmulatorError) throw e;
      if (errnoCode(e) === 'EADDRINUSE') throw new HttpError(409, 'EMU_ERR_ADDRESS_IN_USE', `udp.port: ${plan.options.port} is in use`);
      if (errnoCode(e) === 'EADDRNOTAVAIL') throw badRequest(`udp.host: ${JSON.stringify(plan.options.host)} is not a local address`);
      if (e instanceof TypeError || e instanceof RangeError) throw badRequest(e.message);
      throw e;
    }
    const entry: AuthenticatorEntry = { id, device, owned: true };
    try {
      const profile = device.authenticator.profile;
      checkAgainstProfile(body, profile);
      (body.faults ?? []).forEach((rule, i) => {
        try {
          device.control.faults.add(rule);
        } catch (e) {
          if (e instanceof EmulatorError) throw badRequest(`faults[${i}]: ${e.message}`);
          throw e;
        }
      });
      if (plan.enrollTemplate && profile.uv && device.control.templates.list().length === 0) {
        await device.control.templates.enroll({ modality: profile.uv.modalities[0]! });
      }
      if (plan.isUserVerified !== undefined && profile.uv) {
        this.setUserVerified(entry, plan.isUserVerified);
      }
      if (plan.backup.be || plan.backup.bs) {
        device.control.faults.add({
          id: DEFAULT_BACKUP_RULE_ID,
          when: { command: BACKUP_COMMANDS },
          effect: { type: 'flags', be: plan.backup.be, bs: plan.backup.bs },
          persist: true,
        });
      }
    } catch (e) {
      await device.close();
      throw e;
    }
    this.#entries.set(id, entry);
    log.info({ profile: device.authenticator.profile.name, udp: device.address }, 'authenticator created');
    return entry;
  }

  /** WebDriver Set User Verified: every modality's sensor policy becomes match / mismatch. */
  setUserVerified(entry: AuthenticatorEntry, verified: boolean): void {
    const uv = entry.device.authenticator.profile.uv;
    if (!uv) throw new HttpError(409, 'EMU_ERR_UNSUPPORTED', `profile ${entry.device.authenticator.profile.name} has no built-in user verification`);
    for (const m of uv.modalities) entry.device.control.sensor.setPolicy(m, verified ? 'match' : 'mismatch');
    entry.isUserVerified = verified;
  }

  async remove(id: string): Promise<void> {
    const e = this.get(id);
    if (!e.owned) {
      throw new HttpError(409, 'EMU_ERR_UNSUPPORTED', `authenticator ${JSON.stringify(id)} was started by the host program (vfido start); stop it there`);
    }
    this.#entries.delete(id);
    await e.device.close();
  }

  /** Close the devices this registry created; attached ones are left to their owner. */
  async close(): Promise<void> {
    const owned = this.list().filter((e) => e.owned);
    for (const e of owned) this.#entries.delete(e.id);
    await Promise.all(owned.map((e) => e.device.close()));
  }

  // ---- backup flags (WebDriver defaultBackup* and Set Credential Properties), kept as `flags` rules ----

  backupDefaults(entry: AuthenticatorEntry): BackupFlags {
    const f = flagsOf(entry.device.control.faults.list().find((r) => r.id === DEFAULT_BACKUP_RULE_ID));
    return { backupEligibility: f.be ?? false, backupState: f.bs ?? false };
  }

  /** The BE / BS a credential's assertions carry: its props rule, else the authenticator's defaults. */
  backupFlags(entry: AuthenticatorEntry, credentialId: string, rules = entry.device.control.faults.list()): BackupFlags {
    const d = flagsOf(rules.find((r) => r.id === DEFAULT_BACKUP_RULE_ID));
    const c = flagsOf(rules.find((r) => r.id === propsRuleId(credentialId)));
    return { backupEligibility: c.be ?? d.be ?? false, backupState: c.bs ?? d.bs ?? false };
  }

  /** Set Credential Properties: (re)arm the credential's persistent `flags` rule (getAssertion / getNextAssertion). */
  setBackupFlags(entry: AuthenticatorEntry, credentialId: string, p: { backupEligibility?: boolean; backupState?: boolean }): BackupFlags {
    const now = this.backupFlags(entry, credentialId);
    const next: BackupFlags = { backupEligibility: p.backupEligibility ?? now.backupEligibility, backupState: p.backupState ?? now.backupState };
    const faults = entry.device.control.faults;
    const id = propsRuleId(credentialId);
    const rule: FaultRuleInput = {
      id,
      when: { command: ['getAssertion', 'getNextAssertion'], credential: credentialId },
      effect: { type: 'flags', be: next.backupEligibility, bs: next.backupState },
      persist: true,
    };
    if (faults.list().some((r) => r.id === id)) faults.remove(id);
    faults.add(rule);
    return next;
  }

  /** Drop a removed credential's props rule (if any). */
  forgetBackupFlags(entry: AuthenticatorEntry, credentialId: string): void {
    const id = propsRuleId(credentialId);
    if (entry.device.control.faults.list().some((r) => r.id === id)) entry.device.control.faults.remove(id);
  }

  describe(entry: AuthenticatorEntry): AuthenticatorDescription {
    const d = entry.device;
    const p = d.authenticator.profile;
    const defaults = this.backupDefaults(entry);
    return {
      authenticatorId: entry.id,
      profile: p.name,
      protocol: protocolOf(p),
      transport: 'usb',
      hasResidentKey: p.options.rk && p.residentCredentialCapacity > 0,
      hasUserVerification: p.uv !== undefined,
      isUserConsenting: d.control.presence.get().mode === 'approve',
      ...(entry.isUserVerified !== undefined ? { isUserVerified: entry.isUserVerified } : {}),
      extensions: extensionsOf(p),
      defaultBackupEligibility: defaults.backupEligibility,
      defaultBackupState: defaults.backupState,
      ...(d.address ? { udp: { host: d.address.host, port: d.address.port } } : {}),
      removable: entry.owned,
    };
  }
}
