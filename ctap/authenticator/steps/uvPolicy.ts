/**
 * The "is user verification required?" policy of makeCredential (CTAP 2.1 §6.1.2 steps 6–8: alwaysUv,
 * makeCredUvNotRqd) and getAssertion (§6.2.2 step 5: alwaysUv), before any verification is attempted.
 */
import type { HandlerContext } from '../context.ts';
import { builtInUvConfigured } from './builtInUv.ts';
import { clientPinSet, protectedByUv, uvRequired } from './userVerification.ts';

/** CTAP 2.1 §6.1.2 steps 6–8 (alwaysUv, makeCredUvNotRqd). Returns the effective "uv". */
export function makeCredentialUvPolicy(h: HandlerContext, o: { rk: boolean; uv: boolean; hasParam: boolean }): boolean {
  const pinSupported = h.profile.pin !== undefined; // clientPin option ID present, no noMcGaPermissionsWithClientPin
  let makeCredUvNotRqd = h.profile.options.makeCredUvNotRqd;
  let uv = o.uv;
  if (h.device.persistent.alwaysUv) {
    makeCredUvNotRqd = false; // step 6.1
    // Step 6.2: not protected by any form of UV → PUAT_REQUIRED (clientPin supported) / OPERATION_DENIED.
    if (!protectedByUv(h)) throw uvRequired(pinSupported, 'alwaysUv: set a PIN or enroll built-in UV first');
    // Step 6.3: no pinUvAuthParam and the uv option ID is true → treat "uv" as true.
    if (!o.hasParam && builtInUvConfigured(h)) uv = true;
    // Step 6.4: no pinUvAuthParam and "uv" false → PUAT_REQUIRED / OPERATION_DENIED.
    if (!o.hasParam && !uv) throw uvRequired(pinSupported, 'alwaysUv: user verification is required');
  }
  // Step 7 (makeCredUvNotRqd true): protected, "uv" false, no pinUvAuthParam and rk=true → PUAT_REQUIRED (if the
  // clientPin option is true) / OPERATION_DENIED. Step 8 (makeCredUvNotRqd false): the same without the rk term.
  if (protectedByUv(h) && !uv && !o.hasParam && (!makeCredUvNotRqd || o.rk)) {
    throw uvRequired(clientPinSet(h), 'user verification is required for this credential');
  }
  return uv;
}

/**
 * CTAP 2.1 §6.2.2 step 5, when alwaysUv is on and "up" is true: not protected by UV → PUAT_REQUIRED (clientPin
 * supported) / OPERATION_DENIED; a pinUvAuthParam or uv=true → go on; "uv" false but built-in UV enabled →
 * treat "uv" as true; otherwise PUAT_REQUIRED / OPERATION_DENIED. (Applied only with up=true, per the text; some
 * real keys also apply it to up=false.) Returns the effective "uv".
 */
export function getAssertionUvPolicy(h: HandlerContext, o: { up: boolean; uv: boolean; hasParam: boolean }): boolean {
  if (!h.device.persistent.alwaysUv || !o.up) return o.uv;
  const pinSupported = h.profile.pin !== undefined;
  if (!protectedByUv(h)) throw uvRequired(pinSupported, 'alwaysUv: set a PIN or enroll built-in UV first');
  if (o.hasParam || o.uv) return o.uv;
  if (builtInUvConfigured(h)) return true;
  throw uvRequired(pinSupported, 'alwaysUv: user verification is required');
}
