/*
 * vfido-fido2 subcommands for user verification (issue 3): the PIN, built-in UV, fingerprint enrollment.
 * libfido2 does the key agreement, PIN encryption, pinUvAuthToken requests (with permissions and RP ID:
 * getPinUvAuthTokenUsingPinWithPermissions / ...UsingUvWithPermissions, since vfido reports
 * pinUvAuthToken) and every pinUvAuthParam itself.
 *
 * pin   ('ctap21' profile) fido_dev_set_pin (set, set again, change), fido_dev_get_retry_count,
 *       fido_dev_make_cred / fido_dev_get_assert with a PIN (UV flag, fido_assert_verify), a wrong PIN,
 *       3 wrong PINs -> PIN_AUTH_BLOCKED until the UDP power-cycle datagram
 * uv    ('ctap21-fingerprint', one enrolled finger, sensor script match, match, mismatch, mismatch, match)
 *       fido_dev_get_uv_retry_count; make_cred / get_assert with FIDO_OPT_TRUE uv and no PIN; two
 *       mismatches -> FIDO_ERR_UV_INVALID with uvRetries counting down, then a match restores them
 * bio   ('ctap21-fingerprint', enrollment samples scripted by the test) fido_bio_dev_get_info,
 *       fido_bio_dev_enroll_begin / _continue, fido_bio_dev_get_template_array,
 *       fido_bio_dev_set_template_name, built-in UV with the new finger, fido_bio_dev_enroll_remove
 * Error results are reported as libfido2 codes, which are the CTAP status bytes (FIDO_ERR_PIN_INVALID 0x31 …).
 */
#define _GNU_SOURCE

#include <fido.h>
#include <fido/bio.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "vfido_udp.h"

#define PIN "5926"
#define WRONG_PIN "1111"
#define NEW_PIN "535897"
#define POWER_CYCLE_SETTLE_MS 200
#define ENROLL_TIMEOUT_MS 10000
#define MAX_CAPTURES 12
#define MAX_RESULTS 16

/* makeCredential (ES256) for rp_id authorised by `pin` (may be NULL) and/or built-in UV (uv). */
static int make_cred_uv(fido_dev_t *dev, const char *rp_id, bool rk, const char *pin, bool uv, fido_cred_t **out)
{
	struct mc o = { .rk = rk, .pin = pin, .uv = uv, .name = "sam", .display_name = "Sam" };

	return make_cred_opts(dev, rp_id, &o, out);
}

/* getAssertion for rp_id (allow list `allow`, or none) authorised like make_cred_uv. */
static int get_assert_uv(fido_dev_t *dev, const char *rp_id, const fido_cred_t *allow, const char *pin, bool uv,
    fido_assert_t **out)
{
	struct ga g = { .allow = { allow }, .pin = pin, .uv = uv };

	return get_assert_opts(dev, rp_id, &g, out);
}

/* Require a new credential with UP, UV and AT set. */
static bool check_verified_cred(struct check *c, const char *k, const fido_cred_t *cred)
{
	unsigned flags = fido_cred_flags(cred);

	j_flags(c, k, flags);
	if ((flags & (FLAG_UP | FLAG_UV | FLAG_AT)) != (FLAG_UP | FLAG_UV | FLAG_AT))
		return fail(c, "makeCredential flags 0x%02x: want UP, UV and AT", flags);
	return true;
}

/* Require assertion 0 to come from `cred` with UP and UV set, and to verify with its public key. */
static bool check_verified_assert(struct check *c, const char *k, const fido_assert_t *a, const fido_cred_t *cred)
{
	unsigned flags = fido_assert_flags(a, 0);
	int r;

	j_flags(c, k, flags);
	if (fido_assert_count(a) != 1)
		return fail(c, "%zu assertions, expected 1", fido_assert_count(a));
	if (!same_cred(a, 0, cred))
		return fail(c, "the assertion names another credential");
	if ((flags & (FLAG_UP | FLAG_UV)) != (FLAG_UP | FLAG_UV))
		return fail(c, "getAssertion flags 0x%02x: want UP and UV", flags);
	if ((r = verify_with(a, 0, cred)) != FIDO_OK)
		return fail_fido(c, "fido_assert_verify", r);
	return true;
}

/* Record fido_dev_get_retry_count (pin) or fido_dev_get_uv_retry_count (uv) as `k`; -1 on failure. */
static int j_retries(struct check *c, fido_dev_t *dev, const char *k, bool uv)
{
	int n = -1, r;

	r = uv ? fido_dev_get_uv_retry_count(dev, &n) : fido_dev_get_retry_count(dev, &n);
	if (r != FIDO_OK) {
		fail_fido(c, uv ? "fido_dev_get_uv_retry_count" : "fido_dev_get_retry_count", r);
		n = -1;
	}
	j_int(c, k, n);
	return n;
}

/* The result of one makeCredential with `pin` (the credential is dropped). */
static int try_pin(fido_dev_t *dev, const char *rp_id, const char *pin)
{
	fido_cred_t *cred = NULL;
	int r = make_cred_uv(dev, rp_id, false, pin, false, &cred);

	fido_cred_free(&cred);
	return r;
}

static void j_open_state(struct check *c, fido_dev_t *dev)
{
	j_bool(c, "supportsPin", fido_dev_supports_pin(dev));
	j_bool(c, "hasPin", fido_dev_has_pin(dev));
	j_bool(c, "supportsUv", fido_dev_supports_uv(dev));
	j_bool(c, "hasUv", fido_dev_has_uv(dev));
	j_bool(c, "supportsPermissions", fido_dev_supports_permissions(dev));
}

/* j_open_state, then the PIN the bio subcommands use. */
static void j_open_state_set_pin(struct check *c, fido_dev_t *dev)
{
	int r;

	j_open_state(c, dev);
	if ((r = fido_dev_set_pin(dev, PIN, NULL)) != FIDO_OK)
		fail_fido(c, "fido_dev_set_pin", r);
}

/* ---- pin -------------------------------------------------------------------------------------------- */

void cmd_pin(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	char rp_id[64];
	int r;

	if ((dev = open_check(host, port, j_open_state)) == NULL)
		return;
	unique_rp_id(rp_id, sizeof(rp_id), "lf-pin");

	check_begin(&c, "pin.set");
	if ((r = fido_dev_set_pin(dev, PIN, NULL)) != FIDO_OK)
		fail_fido(&c, "fido_dev_set_pin", r);
	j_retries(&c, dev, "pinRetries", false);
	j_int(&c, "setAgain", fido_dev_set_pin(dev, WRONG_PIN, NULL));
	check_end(&c);

	{
		fido_cred_t *cred = NULL;
		fido_assert_t *a = NULL;

		check_begin(&c, "pin.make_cred_get_assert");
		if ((r = make_cred_uv(dev, rp_id, true, PIN, false, &cred)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_make_cred with a PIN", r);
		} else if (check_verified_cred(&c, "flags", cred)) {
			if ((r = get_assert_uv(dev, rp_id, cred, PIN, false, &a)) != FIDO_OK)
				fail_fido(&c, "fido_dev_get_assert with a PIN", r);
			else
				check_verified_assert(&c, "assertionFlags", a, cred);
		}
		check_end(&c);
		fido_assert_free(&a);
		fido_cred_free(&cred);
	}

	{
		fido_cred_t *cred = NULL;
		check_begin(&c, "pin.without_pin");
		/* A discoverable credential needs UV; a non-discoverable one does not (makeCredUvNotRqd). */
		r = make_cred_uv(dev, rp_id, true, NULL, false, &cred);
		fido_cred_free(&cred);
		j_int(&c, "rk", r);
		if ((r = make_cred_uv(dev, rp_id, false, NULL, false, &cred)) != FIDO_OK)
			fail_fido(&c, "fido_dev_make_cred without a PIN (not discoverable)", r);
		else
			j_flags(&c, "nonRkFlags", fido_cred_flags(cred));
		fido_cred_free(&cred);
		check_end(&c);
	}

	check_begin(&c, "pin.wrong_once");
	j_int(&c, "wrong", try_pin(dev, rp_id, WRONG_PIN));
	j_retries(&c, dev, "pinRetriesAfterWrong", false);
	j_int(&c, "right", try_pin(dev, rp_id, PIN));
	j_retries(&c, dev, "pinRetriesAfterRight", false);
	check_end(&c);

	check_begin(&c, "pin.change");
	if ((r = fido_dev_set_pin(dev, NEW_PIN, PIN)) != FIDO_OK)
		fail_fido(&c, "fido_dev_set_pin(new, old)", r);
	j_int(&c, "oldPin", try_pin(dev, rp_id, PIN));
	j_int(&c, "newPin", try_pin(dev, rp_id, NEW_PIN));
	j_retries(&c, dev, "pinRetries", false);
	check_end(&c);

	{
		int attempts[4];

		check_begin(&c, "pin.soft_lockout");
		for (size_t i = 0; i < 3; i++)
			attempts[i] = try_pin(dev, rp_id, WRONG_PIN);
		attempts[3] = try_pin(dev, rp_id, NEW_PIN);
		j_codes(&c, "attempts", attempts, 4);
		j_retries(&c, dev, "pinRetriesBlocked", false);
		if (vfido_udp_power_cycle(host, port, POWER_CYCLE_SETTLE_MS) != 0)
			fail(&c, "could not send the power-cycle datagram");
		j_retries(&c, dev, "pinRetriesAfterPowerCycle", false);
		j_int(&c, "rightAfterPowerCycle", try_pin(dev, rp_id, NEW_PIN));
		j_retries(&c, dev, "pinRetriesAfterRight", false);
		check_end(&c);
	}
	close_device(&dev);
}

/* ---- uv --------------------------------------------------------------------------------------------- */

void cmd_uv(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_cbor_info_t *ci = NULL;
	fido_cred_t *cred = NULL;
	char rp_id[64];
	int r;

	if ((dev = open_check(host, port, j_open_state)) == NULL)
		return;
	unique_rp_id(rp_id, sizeof(rp_id), "lf-uv");

	check_begin(&c, "uv.info");
	if ((ci = fido_cbor_info_new()) == NULL || (r = fido_dev_get_cbor_info(dev, ci)) != FIDO_OK) {
		fail(&c, "fido_dev_get_cbor_info failed");
	} else {
		j_int(&c, "uvModality", (long long)fido_cbor_info_uv_modality(ci));
		j_int(&c, "preferredPlatformUvAttempts", (long long)fido_cbor_info_uv_attempts(ci));
	}
	j_retries(&c, dev, "uvRetries", true);
	check_end(&c);
	fido_cbor_info_free(&ci);

	check_begin(&c, "uv.make_cred_get_assert");
	if ((r = make_cred_uv(dev, rp_id, true, NULL, true, &cred)) != FIDO_OK) {
		fail_fido(&c, "fido_dev_make_cred with uv", r);
	} else if (check_verified_cred(&c, "flags", cred)) {
		fido_assert_t *a = NULL;
		if ((r = get_assert_uv(dev, rp_id, cred, NULL, true, &a)) != FIDO_OK)
			fail_fido(&c, "fido_dev_get_assert with uv", r);
		else
			check_verified_assert(&c, "assertionFlags", a, cred);
		fido_assert_free(&a);
	}
	check_end(&c);

	{
		int attempts[3], retries[3];

		check_begin(&c, "uv.mismatch_then_match");
		for (size_t i = 0; i < 3 && cred != NULL; i++) {
			fido_assert_t *a = NULL;
			attempts[i] = get_assert_uv(dev, rp_id, cred, NULL, true, &a);
			if (attempts[i] == FIDO_OK)
				check_verified_assert(&c, "assertionFlags", a, cred);
			fido_assert_free(&a);
			retries[i] = -1;
			if ((r = fido_dev_get_uv_retry_count(dev, &retries[i])) != FIDO_OK)
				fail_fido(&c, "fido_dev_get_uv_retry_count", r);
		}
		if (cred == NULL) {
			fail(&c, "no credential");
		} else {
			j_codes(&c, "attempts", attempts, 3);
			j_codes(&c, "uvRetries", retries, 3);
		}
		check_end(&c);
	}
	fido_cred_free(&cred);
	close_device(&dev);
}

/* ---- bio -------------------------------------------------------------------------------------------- */

/* Write the device's templates as `"k": [{"id": hex, "name": str|null}, ...]`; returns the libfido2 result. */
static int j_templates(struct check *c, fido_dev_t *dev, const char *k, fido_bio_template_array_t **out)
{
	fido_bio_template_array_t *ta;
	int r;

	*out = NULL;
	if ((ta = fido_bio_template_array_new()) == NULL)
		return FIDO_ERR_INTERNAL;
	r = fido_bio_dev_get_template_array(dev, ta, PIN);
	key(c, k);
	fputc('[', c->f);
	for (size_t i = 0; r == FIDO_OK && i < fido_bio_template_array_count(ta); i++) {
		const fido_bio_template_t *t = fido_bio_template(ta, i);
		const unsigned char *id = fido_bio_template_id_ptr(t);
		const char *name = fido_bio_template_name(t);

		fprintf(c->f, "%s{\"id\":\"", i ? "," : "");
		for (size_t b = 0; b < fido_bio_template_id_len(t); b++)
			fprintf(c->f, "%02x", id[b]);
		fputs("\",\"name\":", c->f);
		if (name == NULL)
			fputs("null", c->f);
		else
			put_str(c->f, name);
		fputc('}', c->f);
	}
	fputc(']', c->f);
	*out = ta;
	return r;
}

static fido_dev_t *reopen(struct check *c, fido_dev_t **dev, const char *host, unsigned port)
{
	close_device(dev);
	*dev = open_device(c, host, port);
	return *dev;
}

void cmd_bio(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_bio_template_t *t = NULL;
	int r;

	if ((dev = open_check(host, port, j_open_state_set_pin)) == NULL)
		return;

	{
		fido_bio_info_t *info = fido_bio_info_new();

		check_begin(&c, "bio.info");
		if (info == NULL || (r = fido_bio_dev_get_info(dev, info)) != FIDO_OK) {
			fail(&c, "fido_bio_dev_get_info failed");
		} else {
			j_int(&c, "type", fido_bio_info_type(info));
			j_int(&c, "maxSamples", fido_bio_info_max_samples(info));
		}
		check_end(&c);
		fido_bio_info_free(&info);
	}

	{
		fido_bio_enroll_t *e = fido_bio_enroll_new();
		int statuses[MAX_CAPTURES], remaining[MAX_CAPTURES];
		size_t n = 0;

		check_begin(&c, "bio.enroll");
		if (e == NULL || (t = fido_bio_template_new()) == NULL) {
			fail(&c, "allocation failed");
		} else if ((r = fido_bio_dev_enroll_begin(dev, t, e, ENROLL_TIMEOUT_MS, PIN)) != FIDO_OK) {
			fail_fido(&c, "fido_bio_dev_enroll_begin", r);
		} else {
			statuses[n] = fido_bio_enroll_last_status(e);
			remaining[n++] = fido_bio_enroll_remaining_samples(e);
			while (fido_bio_enroll_remaining_samples(e) > 0 && n < MAX_CAPTURES) {
				if ((r = fido_bio_dev_enroll_continue(dev, t, e, ENROLL_TIMEOUT_MS)) != FIDO_OK) {
					fail_fido(&c, "fido_bio_dev_enroll_continue", r);
					break;
				}
				statuses[n] = fido_bio_enroll_last_status(e);
				remaining[n++] = fido_bio_enroll_remaining_samples(e);
			}
			j_codes(&c, "statuses", statuses, n);
			j_codes(&c, "remaining", remaining, n);
			j_hex(&c, "templateId", fido_bio_template_id_ptr(t), fido_bio_template_id_len(t));
			if (fido_bio_enroll_remaining_samples(e) != 0)
				fail(&c, "enrollment not complete after %zu samples", n);
			if (fido_bio_template_id_len(t) == 0)
				fail(&c, "no template ID");
		}
		check_end(&c);
		fido_bio_enroll_free(&e);
	}
	if (t == NULL || fido_bio_template_id_len(t) == 0) {
		fido_bio_template_free(&t);
		close_device(&dev);
		return;
	}

	{
		fido_bio_template_array_t *ta = NULL;
		fido_bio_template_t *named = fido_bio_template_new();

		check_begin(&c, "bio.templates_set_name");
		if ((r = j_templates(&c, dev, "before", &ta)) != FIDO_OK)
			fail_fido(&c, "fido_bio_dev_get_template_array", r);
		fido_bio_template_array_free(&ta);
		if (named == NULL ||
		    fido_bio_template_set_id(named, fido_bio_template_id_ptr(t), fido_bio_template_id_len(t)) != FIDO_OK ||
		    fido_bio_template_set_name(named, "right index") != FIDO_OK)
			fail(&c, "cannot build the template to rename");
		else if ((r = fido_bio_dev_set_template_name(dev, named, PIN)) != FIDO_OK)
			fail_fido(&c, "fido_bio_dev_set_template_name", r);
		if ((r = j_templates(&c, dev, "after", &ta)) != FIDO_OK)
			fail_fido(&c, "fido_bio_dev_get_template_array", r);
		fido_bio_template_array_free(&ta);
		fido_bio_template_free(&named);
		check_end(&c);
	}

	{
		fido_cred_t *cred = NULL;
		fido_assert_t *a = NULL;
		char rp_id[64];

		check_begin(&c, "bio.uv");
		unique_rp_id(rp_id, sizeof(rp_id), "lf-bio");
		/* libfido2 reads the uv option when the device is opened: open it again to see the new finger. */
		if (reopen(&c, &dev, host, port) != NULL) {
			j_bool(&c, "hasUv", fido_dev_has_uv(dev));
			if ((r = make_cred_uv(dev, rp_id, false, NULL, true, &cred)) != FIDO_OK) {
				fail_fido(&c, "fido_dev_make_cred with uv", r);
			} else if (check_verified_cred(&c, "flags", cred)) {
				if ((r = get_assert_uv(dev, rp_id, cred, NULL, true, &a)) != FIDO_OK)
					fail_fido(&c, "fido_dev_get_assert with uv", r);
				else
					check_verified_assert(&c, "assertionFlags", a, cred);
			}
		}
		check_end(&c);
		fido_assert_free(&a);
		fido_cred_free(&cred);
	}

	if (dev != NULL) {
		fido_bio_template_array_t *ta = NULL;

		check_begin(&c, "bio.remove");
		if ((r = fido_bio_dev_enroll_remove(dev, t, PIN)) != FIDO_OK)
			fail_fido(&c, "fido_bio_dev_enroll_remove", r);
		j_int(&c, "templateArray", j_templates(&c, dev, "after", &ta));
		fido_bio_template_array_free(&ta);
		if (reopen(&c, &dev, host, port) != NULL)
			j_bool(&c, "hasUvAfter", fido_dev_has_uv(dev));
		check_end(&c);
	}
	fido_bio_template_free(&t);
	close_device(&dev);
}
