/**
 * authenticatorBioEnrollment (0x09; prototype 0x40 with the same layout) messages, CTAP 2.1 §6.7, §6.12.
 * Every request member is optional at this level; which ones a subcommand needs is the handler's business.
 */
import { encode, type CborMap, type CborValue } from '../cbor.ts';
import { bool, bytes, map, optional, text, uint, parseSubCommandEnvelope } from './fields.ts';

/** Request map keys, CTAP 2.1 §6.7 (authenticatorBioEnrollment parameters). */
export const BioEnrollmentKey = {
  modality: 0x01,
  subCommand: 0x02,
  subCommandParams: 0x03,
  pinUvAuthProtocol: 0x04,
  pinUvAuthParam: 0x05,
  getModality: 0x06,
} as const;

/** subCommandParams keys. */
export const BioSubCommandParamKey = { templateId: 0x01, templateFriendlyName: 0x02, timeoutMilliseconds: 0x03 } as const;

/** Response map keys. */
export const BioEnrollmentResponseKey = {
  modality: 0x01,
  fingerprintKind: 0x02,
  maxCaptureSamplesRequiredForEnroll: 0x03,
  templateId: 0x04,
  lastEnrollSampleStatus: 0x05,
  remainingSamples: 0x06,
  templateInfos: 0x07,
  maxTemplateFriendlyName: 0x08,
} as const;

/** templateInfo map keys. */
export const TemplateInfoKey = { templateId: 0x01, templateFriendlyName: 0x02 } as const;

/** Subcommands of the fingerprint modality. */
export const BioSubCommand = {
  enrollBegin: 0x01,
  enrollCaptureNextSample: 0x02,
  cancelCurrentEnrollment: 0x03,
  enumerateEnrollments: 0x04,
  setFriendlyName: 0x05,
  removeEnrollment: 0x06,
  getFingerprintSensorInfo: 0x07,
} as const;

/** Modalities: CTAP 2.1 defines only fingerprint. */
export const BioModality = { fingerprint: 0x01 } as const;

export interface BioSubCommandParams {
  templateId?: Uint8Array;
  templateFriendlyName?: string;
  timeoutMilliseconds?: number;
}

export interface BioEnrollmentRequest {
  modality?: number;
  subCommand?: number;
  subCommandParams?: BioSubCommandParams;
  /**
   * CBOR(subCommandParams) as the platform authenticated it. The request was decoded strictly canonically,
   * so re-encoding the received map gives back exactly the bytes that were sent.
   */
  subCommandParamsCbor?: Uint8Array;
  pinUvAuthProtocol?: number;
  pinUvAuthParam?: Uint8Array;
  getModality?: boolean;
}

function parseParams(m: CborMap): BioSubCommandParams {
  const K = BioSubCommandParamKey;
  const p: BioSubCommandParams = {};
  const templateId = optional(m, K.templateId, bytes, 'subCommandParams.templateId');
  if (templateId !== undefined) p.templateId = templateId;
  const name = optional(m, K.templateFriendlyName, text, 'subCommandParams.templateFriendlyName');
  if (name !== undefined) p.templateFriendlyName = name;
  const timeout = optional(m, K.timeoutMilliseconds, uint, 'subCommandParams.timeoutMilliseconds');
  if (timeout !== undefined) p.timeoutMilliseconds = timeout;
  return p;
}

/** No parameters at all is a valid parse (the handler answers MISSING_PARAMETER). */
export function parseBioEnrollmentRequest(m: CborMap | undefined): BioEnrollmentRequest {
  const req: BioEnrollmentRequest = {};
  if (!m) return req;
  const K = BioEnrollmentKey;
  const modality = optional(m, K.modality, uint, 'modality');
  if (modality !== undefined) req.modality = modality;
  const subCommand = optional(m, K.subCommand, uint, 'subCommand');
  if (subCommand !== undefined) req.subCommand = subCommand;
  Object.assign(req, parseSubCommandEnvelope(m, K, parseParams));
  const getModality = optional(m, K.getModality, bool, 'getModality');
  if (getModality !== undefined) req.getModality = getModality;
  return req;
}

export interface TemplateInfo {
  templateId: Uint8Array;
  templateFriendlyName?: string;
}

export interface BioEnrollmentResponse {
  modality?: number;
  fingerprintKind?: number;
  maxCaptureSamplesRequiredForEnroll?: number;
  templateId?: Uint8Array;
  lastEnrollSampleStatus?: number;
  remainingSamples?: number;
  templateInfos?: TemplateInfo[];
  maxTemplateFriendlyName?: number;
}

/** The response map; undefined (status byte only) when it has no member (cancel, setFriendlyName, remove). */
export function encodeBioEnrollmentResponse(res: BioEnrollmentResponse): Uint8Array | undefined {
  const K = BioEnrollmentResponseKey;
  const m = new Map<number, CborValue>();
  if (res.modality !== undefined) m.set(K.modality, res.modality);
  if (res.fingerprintKind !== undefined) m.set(K.fingerprintKind, res.fingerprintKind);
  if (res.maxCaptureSamplesRequiredForEnroll !== undefined) {
    m.set(K.maxCaptureSamplesRequiredForEnroll, res.maxCaptureSamplesRequiredForEnroll);
  }
  if (res.templateId !== undefined) m.set(K.templateId, res.templateId);
  if (res.lastEnrollSampleStatus !== undefined) m.set(K.lastEnrollSampleStatus, res.lastEnrollSampleStatus);
  if (res.remainingSamples !== undefined) m.set(K.remainingSamples, res.remainingSamples);
  if (res.templateInfos !== undefined) {
    m.set(
      K.templateInfos,
      res.templateInfos.map((t) => {
        const info = new Map<number, CborValue>([[TemplateInfoKey.templateId, t.templateId]]);
        if (t.templateFriendlyName !== undefined) info.set(TemplateInfoKey.templateFriendlyName, t.templateFriendlyName);
        return info;
      }),
    );
  }
  if (res.maxTemplateFriendlyName !== undefined) m.set(K.maxTemplateFriendlyName, res.maxTemplateFriendlyName);
  return m.size === 0 ? undefined : encode(m);
}
