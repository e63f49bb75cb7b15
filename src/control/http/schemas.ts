/**
 * JSON Schemas of the control API's bodies, params and query strings. fastify validates every request against
 * them before a handler runs (strict: no type coercion, unknown fields refused); the control API then checks
 * the values (ranges, base64url, rule semantics) with messages naming the field.
 */
import { CORRUPT_TARGETS } from '../../../ctap/authenticator/control.ts';
import { MAX_DELAY_MS } from '../../limits.ts';

const b64url = { type: 'string', pattern: '^[A-Za-z0-9_-]*={0,2}$', maxLength: 4096 } as const;
const bool = { type: 'boolean' } as const;
const ms = { type: 'number', minimum: 0, maximum: MAX_DELAY_MS } as const;
const uint = { type: 'integer', minimum: 0 } as const;
const modality = { type: 'string', enum: ['fingerprint', 'face'] } as const;
const presenceMode = { type: 'string', enum: ['approve', 'deny', 'timeout'] } as const;
/** A template to seed (its name's UTF-8 length is checked against the profile's maxTemplateFriendlyName at start). */
const templateSeed = {
  type: 'object',
  additionalProperties: false,
  required: ['modality'],
  properties: { modality, name: { type: 'string', maxLength: 255 } },
} as const;
/** A sensor behaviour: an outcome or { policy } / { script, then? } / { falseRejectionRate } (checked by the sensor). */
const sensorBehaviour = { anyOf: [{ type: 'string' }, { type: 'object' }] } as const;

/** startDevice's `verification` (SensorOptions). */
const verification = {
  type: 'object',
  additionalProperties: false,
  properties: {
    templates: { type: 'array', items: templateSeed, maxItems: 64 },
    fingerprint: sensorBehaviour,
    face: sensorBehaviour,
    enrollSamples: { type: 'array', maxItems: 1000, items: { anyOf: [{ type: 'integer', minimum: 0, maximum: 255 }, { const: 'timeout' }] } },
    delayMs: ms,
  },
} as const;

export const authenticatorParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } },
} as const;

export const credentialParams = {
  type: 'object',
  required: ['id', 'credentialId'],
  properties: { ...authenticatorParams.properties, credentialId: { ...b64url, minLength: 1 } },
} as const;

export const faultParams = {
  type: 'object',
  required: ['id', 'faultId'],
  properties: { ...authenticatorParams.properties, faultId: { type: 'string', pattern: '^[A-Za-z0-9._:#-]{1,64}$' } },
} as const;

export const createAuthenticatorBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    protocol: { type: 'string', enum: ['ctap2', 'ctap2_1', 'ctap1/u2f'] },
    transport: { type: 'string', enum: ['usb'] },
    hasResidentKey: bool,
    hasUserVerification: bool,
    isUserConsenting: bool,
    isUserVerified: bool,
    extensions: { type: 'array', items: { type: 'string' }, maxItems: 32 },
    defaultBackupEligibility: bool,
    defaultBackupState: bool,
    profile: { type: 'string', maxLength: 64 },
    seed: { type: 'string', minLength: 1, maxLength: 256 },
    attestation: { type: 'string', enum: ['none', 'self', 'basic'] },
    udp: {
      type: 'object',
      additionalProperties: false,
      properties: { host: { type: 'string', minLength: 1, maxLength: 255 }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
    },
    verification,
    presence: {
      type: 'object',
      additionalProperties: false,
      properties: { mode: presenceMode, delayMs: ms, timeoutMs: ms },
    },
    profileOverrides: { type: 'object' },
    faults: { type: 'array', items: { type: 'object' }, maxItems: 256 },
  },
} as const;

export const credentialBody = {
  type: 'object',
  additionalProperties: false,
  required: ['rpId'],
  properties: {
    credentialId: { ...b64url, minLength: 1 },
    isResidentCredential: bool,
    rpId: { type: 'string', minLength: 1, maxLength: 255 },
    privateKey: b64url,
    userHandle: { ...b64url, minLength: 1 },
    signCount: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    largeBlob: b64url,
    backupEligibility: bool,
    backupState: bool,
    userName: { type: 'string', maxLength: 255 },
    userDisplayName: { type: 'string', maxLength: 255 },
    rpName: { type: 'string', maxLength: 255 },
    alg: { type: 'integer', enum: [-7, -8] },
  },
} as const;

export const credentialsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { includePrivateKeys: { type: 'string', enum: ['true', 'false'] }, rpId: { type: 'string', minLength: 1 } },
} as const;

export const credentialQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { includePrivateKeys: { type: 'string', enum: ['true', 'false'] } },
} as const;

export const propsBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { backupEligibility: bool, backupState: bool },
} as const;

/** WebDriver Set User Verified ({ isUserVerified }) or vfido's uvRetries ({ retries } / { block: true }): exactly one. */
export const uvBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: { isUserVerified: bool, retries: uint, block: { const: true } },
} as const;

export const pinBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: { retries: uint, block: { const: true }, forceChange: bool, pin: { type: 'string', minLength: 1, maxLength: 255 }, clear: { const: true } },
} as const;

export const presenceBody = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { mode: presenceMode, delayMs: ms, timeoutMs: ms },
} as const;

export const sensorBody = {
  type: 'object',
  additionalProperties: false,
  required: ['modality'],
  minProperties: 2,
  maxProperties: 2,
  properties: {
    modality,
    script: { type: 'array', maxItems: 1000 },
    policy: { anyOf: [{ type: 'string' }, { type: 'object' }] },
  },
} as const;

export const templateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['modality'],
  properties: { modality, name: { type: 'string', maxLength: 255 } },
} as const;

export const corruptBody = {
  type: 'object',
  additionalProperties: false,
  required: ['target'],
  properties: { target: { type: 'string', enum: [...CORRUPT_TARGETS] } },
} as const;

export const counterBody = {
  type: 'object',
  additionalProperties: false,
  required: ['value'],
  properties: { value: { type: 'integer', minimum: 0, maximum: 0xffffffff }, rpId: { type: 'string', minLength: 1, maxLength: 255 } },
} as const;

/** A fault rule: its semantics are checked by the fault engine (faults.add), whose messages name the field. */
export const faultBody = {
  type: 'object',
  required: ['effect'],
  properties: { effect: { anyOf: [{ type: 'string' }, { type: 'object' }] } },
} as const;
