"""python-fido2 interop: authenticatorBioEnrollment (fingerprint) and built-in UV on a fingerprint key.

The device runs the 'ctap21-fingerprint' profile with a scripted sensor (its enrollment sample statuses are
set when the device starts); the checks report the feedback codes python-fido2 saw, for the test to compare.
  * getInfo before enrollment: bioEnroll and uv present and false; getFingerprintSensorInfo without auth;
  * FPBioEnrollment with a PIN token carrying the be permission: enrollment through python-fido2's
    FPEnrollmentContext, which raises CaptureError for every non-good sample; the feedback and the
    remaining-sample counts it reports are the checks' detail; enumerate, setFriendlyName, and a token
    without be is refused;
  * built-in UV once enrolled: getInfo uv true, makeCredential / getAssertion with the uv option,
    getPinUvAuthTokenUsingUvWithPermissions (0x06) + pinUvAuthParam, getUVRetries, and Fido2Client with
    userVerification 'required' and no PIN against Fido2Server;
  * removeEnrollment: no templates left, uv false again, the uv option is refused (INVALID_OPTION).
"""

from fido2.client import Fido2Client
from fido2.ctap2.bio import CaptureError, FPBioEnrollment
from fido2.ctap2.pin import ClientPin
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialParameters

from common import (
    ES256,
    GA,
    MC,
    ORIGIN,
    ORIGIN_HOST,
    add_protocol_argument,
    check_verified_assertion,
    check_verified_credential,
    expect,
    expect_status,
    flags_detail,
    outcome,
    pin_protocol,
    random_bytes,
    register_and_authenticate,
    start,
    unique_rp_id,
    uv_get_assertion,
    uv_make_credential,
)

PIN = "1357"
FRIENDLY_NAME = "left thumb"
BE = ClientPin.PERMISSION.BIO_ENROLL
FINGERPRINT_MODALITY = 1
ENUMERATE_ENROLLMENTS = 0x04


def add_arguments(parser):
    add_protocol_argument(parser)
    parser.add_argument("--max-captures", type=int, default=12, help="give up enrolling after this many samples")


def main():
    args, checks, device, ctap2 = start(__doc__, add_arguments)
    protocol = pin_protocol(args.protocol)
    aaguid = ctap2.info.aaguid
    state = {}

    def uv_options(info):
        o = info.options
        return {k: o.get(k) for k in ("clientPin", "pinUvAuthToken", "uv", "bioEnroll", "userVerificationMgmtPreview")}

    def info_before():
        i = ctap2.get_info()
        expect(i.options.get("bioEnroll") is False, "bioEnroll option %r, expected false" % i.options.get("bioEnroll"))
        expect(i.options.get("uv") is False, "uv option %r, expected false" % i.options.get("uv"))
        return {"options": uv_options(i), "uvModality": i.uv_modality, "versions": i.versions}

    def sensor_info():
        bio = FPBioEnrollment(ctap2, None, None)  # getModality and getFingerprintSensorInfo need no token
        si = bio.get_fingerprint_sensor_info()
        return {"modality": bio.modality, "sensorInfo": {str(k): v for k, v in si.items()}}

    def bio_with(permissions, rp_id=None):
        cp = ClientPin(ctap2, protocol)
        token = cp.get_pin_token(PIN, permissions, rp_id)
        return FPBioEnrollment(ctap2, protocol, token), token

    def enumerate_raw(token):
        """enumerateEnrollments by hand, to see the status python-fido2's enumerate_enrollments hides."""
        msg = bytes([FINGERPRINT_MODALITY, ENUMERATE_ENROLLMENTS])
        return ctap2.bio_enrollment(
            modality=FINGERPRINT_MODALITY,
            sub_cmd=ENUMERATE_ENROLLMENTS,
            pin_uv_protocol=protocol.VERSION,
            pin_uv_param=protocol.authenticate(token, msg),
        )

    def set_pin_and_enumerate_empty():
        ClientPin(ctap2, protocol).set_pin(PIN)
        bio, token = bio_with(BE)
        state["bio"] = bio
        return {"enumerateEmpty": outcome(enumerate_raw, token), "pythonEnumerate": bio.enumerate_enrollments()}

    def enroll():
        ctx = state["bio"].enroll()
        feedback, remaining = [], []
        template_id = None
        for _ in range(args.max_captures):
            try:
                template_id = ctx.capture()
                feedback.append(int(FPBioEnrollment.FEEDBACK.FP_GOOD))
            except CaptureError as e:
                feedback.append(int(e.code))
            remaining.append(ctx.remaining)
            if template_id is not None:
                break
        expect(template_id is not None, "enrollment not complete after %d samples" % len(feedback))
        expect(template_id == ctx.template_id, "capture() returned another template ID than enrollBegin")
        state["template_id"] = template_id
        return {"feedback": feedback, "remaining": remaining, "templateIdLength": len(template_id)}

    def enumerate_and_name():
        bio = state["bio"]
        tid = state["template_id"]
        before = bio.enumerate_enrollments()
        expect(list(before.keys()) == [tid], "enumerated templates %r, expected just the new one" % list(before.keys()))
        bio.set_name(tid, FRIENDLY_NAME)
        after = bio.enumerate_enrollments()
        expect(after == {tid: FRIENDLY_NAME}, "after setFriendlyName: %r" % after)
        bio_without_be = bio_with(MC | GA, unique_rp_id("bio-perm"))[0]
        without_be = expect_status("PIN_AUTH_INVALID", bio_without_be.enumerate_enrollments)
        return {"nameBefore": before[tid], "nameAfter": after[tid], "tokenWithoutBe": without_be}

    def info_enrolled():
        i = ctap2.get_info()
        expect(i.options.get("uv") is True, "uv option %r after enrollment" % i.options.get("uv"))
        expect(i.options.get("bioEnroll") is True, "bioEnroll option %r after enrollment" % i.options.get("bioEnroll"))
        return {"options": uv_options(i)}

    def uv_option():
        rp_id = unique_rp_id("bio-uv")
        att, _ = uv_make_credential(ctap2, rp_id, rk=True, uv_option=True)
        cred = check_verified_credential(att, rp_id, aaguid)
        a, cdh = uv_get_assertion(ctap2, rp_id, uv_option=True)
        check_verified_assertion(a, cdh, rp_id, cred)
        return {"flags": flags_detail(att.auth_data), "assertionFlags": flags_detail(a.auth_data)}

    def uv_token():
        cp = ClientPin(ctap2, protocol)
        before = cp.get_uv_retries()[0]
        rp_id = unique_rp_id("bio-token")
        t = cp.get_uv_token(MC | GA, rp_id)
        att, _ = uv_make_credential(ctap2, rp_id, protocol, t)
        cred = check_verified_credential(att, rp_id, aaguid)
        t = cp.get_uv_token(GA, rp_id)
        a, cdh = uv_get_assertion(ctap2, rp_id, protocol, t, allow=[{"type": "public-key", "id": cred.credential_id}])
        check_verified_assertion(a, cdh, rp_id, cred)
        return {"uvRetriesBefore": before, "uvRetriesAfter": cp.get_uv_retries()[0], "tokenLength": len(t)}

    def via_client():
        server = Fido2Server({"id": ORIGIN_HOST, "name": "vfido interop"}, attestation="none")
        server.allowed_algorithms = [PublicKeyCredentialParameters("public-key", ES256)]
        client = Fido2Client(device, ORIGIN)
        user = {"id": random_bytes(16), "name": "rowan"}
        # No PIN: python-fido2 sends uv=true.
        auth_data, response = register_and_authenticate(server, client, user)
        return {"flags": flags_detail(auth_data), "assertionFlags": flags_detail(response.authenticator_data)}

    def remove():
        bio, token = bio_with(BE)
        bio.remove_enrollment(state["template_id"])
        empty = outcome(enumerate_raw, token)
        i = ctap2.get_info()
        expect(i.options.get("uv") is False, "uv option %r after removing the only template" % i.options.get("uv"))
        refused = expect_status("INVALID_OPTION", uv_make_credential, ctap2, unique_rp_id("bio-gone"), uv_option=True)
        unknown = outcome(bio.remove_enrollment, state["template_id"])
        return {"enumerateAfter": empty, "options": uv_options(i), "uvOptionAfter": refused, "removeAgain": unknown}

    checks.run("bio.info_before", info_before)
    checks.run("bio.sensor_info", sensor_info)
    if checks.run("bio.set_pin", set_pin_and_enumerate_empty) is not None and checks.run("bio.enroll", enroll) is not None:
        checks.run("bio.enumerate_set_name", enumerate_and_name)
        checks.run("bio.info_enrolled", info_enrolled)
        checks.run("bio.uv_option", uv_option)
        checks.run("bio.uv_token", uv_token)
        checks.run("bio.client", via_client)
        checks.run("bio.remove", remove)
    device.close()
    checks.finish()


if __name__ == "__main__":
    main()
