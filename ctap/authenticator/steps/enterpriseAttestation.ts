/** Enterprise attestation in makeCredential (CTAP 2.1 §6.1.2 step 9, §7.1; CHECKLIST B1.9). */
import { CtapStatus } from '../../constants/status.ts';
import { CtapError } from '../../errors.ts';
import type { HandlerContext } from '../context.ts';
import { enterpriseAttestationCapable } from '../features.ts';

/** enterpriseAttestation values: 1 = vendor-facilitated, 2 = platform-managed. */
export const EnterpriseAttestation = { vendorFacilitated: 1, platformManaged: 2 } as const;

/**
 * Step 9 for the enterpriseAttestation parameter; returns whether this makeCredential returns an enterprise
 * attestation (and epAtt = true). Absent → false.
 */
export function enterpriseAttestationRequested(h: HandlerContext, value: number | undefined, rpId: string): boolean {
  if (value === undefined) return false;
  const ea = h.profile.enterpriseAttestation;
  // Step 9.1: "If the authenticator is not enterprise attestation capable, or the authenticator is enterprise
  // attestation capable but enterprise attestation is disabled, then end the operation by returning
  // CTAP1_ERR_INVALID_PARAMETER."
  if (!ea || !enterpriseAttestationCapable(h.profile) || !h.device.persistent.enterpriseAttestation) {
    throw new CtapError(CtapStatus.CTAP1_ERR_INVALID_PARAMETER, 'enterprise attestation is not enabled');
  }
  // Step 9.2: a value other than 1 or 2 → CTAP2_ERR_INVALID_OPTION.
  if (value !== EnterpriseAttestation.vendorFacilitated && value !== EnterpriseAttestation.platformManaged) {
    throw new CtapError(CtapStatus.CTAP2_ERR_INVALID_OPTION, `enterpriseAttestation ${value} is neither 1 nor 2`);
  }
  // Step 9.4: platform-managed EA is returned without an RP ID check (the platform vouches for the RP); a
  // vendor-facilitated-only authenticator treats 2 like 1.
  if (value === EnterpriseAttestation.platformManaged && ea.platformManaged) return true;
  // Step 9.3: vendor-facilitated EA only for an RP ID on the pre-configured list; otherwise continue as if the
  // parameter were absent (a regular attestation, no epAtt).
  return ea.rpIds.includes(rpId);
}
