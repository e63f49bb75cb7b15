/*
 * vfido-fido2 subcommands for issue 4: extensions, credential management, large blobs, authenticatorConfig
 * and CTAP1/U2F, all through libfido2's own API (it does the key agreement, pinUvAuthTokens with
 * permissions, every pinUvAuthParam, the hmac-secret salt encryption, the large-blob encryption and
 * fragmentation, and the U2F APDUs).
 *
 * credman    fido_credman_get_dev_metadata / _get_dev_rp / _get_dev_rk / _set_dev_rk / _del_dev_rk
 *            (libfido2 1.12 speaks the preview command 0x41)
 * largeblob  largeBlobKey on make_cred / get_assert, fido_dev_largeblob_set / _get / _remove /
 *            _get_array, one blob larger than a fragment
 * config     fido_dev_enable_entattest, fido_dev_toggle_always_uv, fido_dev_set_pin_minlen,
 *            fido_dev_force_pin_change, fido_dev_set_pin_minlen_rpid + FIDO_EXT_MINPINLEN
 * hmac       FIDO_EXT_HMAC_SECRET on make_cred, fido_assert_set_hmac_salt (32 and 64 bytes) without and
 *            with a PIN (libfido2 uses the device's preferred PIN/UV protocol: run it on a protocol-1-only
 *            profile too)
 * credprot   fido_cred_set_prot levels 1..3 (+ hmac-secret on level 3), then get_assert with and without
 *            a PIN, with and without an allow list
 * u2f        fido_dev_force_u2f: make_cred (fido-u2f, fido_cred_verify), exclude list, get_assert +
 *            fido_assert_verify; if the device also speaks CTAP2, the U2F credential in CTAP2 get_assert
 *
 * Every new credential's attestation is verified (fido_cred_verify / fido_cred_verify_self), which also
 * makes libfido2 compare the authData extension outputs with the extensions it asked for.
 */
#define _GNU_SOURCE

#include <fido.h>
#include <fido/config.h>
#include <fido/credman.h>
#include <fido/es256.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "vfido_udp.h"

#define PIN "246810"
#define WRONG_PIN "999999"
#define LONG_PIN "24681012"
#define NEXT_PIN "13579111"
#define SEVEN_PIN "1234567"
#define SALT_LEN 32
#define MAX_ASSERTS 8

/* ---- helpers ---------------------------------------------------------------------------------------- */

/* makeCredential for rp_id as described by `o` (user "zoe" unless o->name); the new credential in *out. */
static int make(fido_dev_t *dev, const char *rp_id, const struct mc *o, fido_cred_t **out)
{
	struct mc m = *o;

	m.rp_name = "vfido ext";
	m.name = o->name ? o->name : "zoe";
	m.display_name = "Zoe";
	return make_cred_opts(dev, rp_id, &m, out);
}

/* fido_cred_verify (x5c) or fido_cred_verify_self; both also compare the extension outputs with the inputs. */
static int verify_cred(const fido_cred_t *cred)
{
	const char *fmt = fido_cred_fmt(cred);

	if (fmt != NULL && strcmp(fmt, "none") == 0)
		return FIDO_OK;
	return fido_cred_x5c_len(cred) > 0 ? fido_cred_verify(cred) : fido_cred_verify_self(cred);
}

/* The value after CBOR text key `k` in the raw authData's extension map: -1 absent, 0/1 for false/true,
 * a small uint as itself (< 24 or one 0x18 byte). Only for the unambiguous short keys used here. */
static int authdata_ext(const fido_cred_t *cred, const char *k)
{
	const unsigned char *p = fido_cred_authdata_raw_ptr(cred);
	size_t n = fido_cred_authdata_raw_len(cred), kl = strlen(k);
	unsigned char head = (unsigned char)(0x60 | kl);

	if (p == NULL || kl > 23)
		return -1;
	for (size_t i = 0; i + 1 + kl < n; i++) {
		if (p[i] != head || memcmp(p + i + 1, k, kl) != 0)
			continue;
		unsigned char v = p[i + 1 + kl];
		if (v == 0xf5)
			return 1;
		if (v == 0xf4)
			return 0;
		if (v < 0x18)
			return v;
		if (v == 0x18 && i + 2 + kl < n)
			return p[i + 2 + kl];
		return -2;
	}
	return -1;
}

static bool get_info(struct check *c, fido_dev_t *dev, fido_cbor_info_t **ci)
{
	int r;

	if ((*ci = fido_cbor_info_new()) == NULL)
		return fail(c, "fido_cbor_info_new");
	if ((r = fido_dev_get_cbor_info(dev, *ci)) != FIDO_OK) {
		fido_cbor_info_free(ci);
		return fail_fido(c, "fido_dev_get_cbor_info", r);
	}
	return true;
}

/* getInfo option `name`: 1 true, 0 false, -1 absent. */
static int info_option(const fido_cbor_info_t *ci, const char *name)
{
	char **names = fido_cbor_info_options_name_ptr(ci);
	const bool *values = fido_cbor_info_options_value_ptr(ci);

	for (size_t i = 0; i < fido_cbor_info_options_len(ci); i++)
		if (strcmp(names[i], name) == 0)
			return values[i] ? 1 : 0;
	return -1;
}

static void j_option(struct check *c, const fido_cbor_info_t *ci, const char *name)
{
	int v = info_option(ci, name);

	if (v < 0)
		j_str(c, name, NULL);
	else
		j_bool(c, name, v == 1);
}

static fido_dev_t *open_with_pin(struct check *c, const char *host, unsigned port, const char *pin)
{
	fido_dev_t *dev = open_device(c, host, port);
	int r;

	if (dev != NULL && pin != NULL && (r = fido_dev_set_pin(dev, pin, NULL)) != FIDO_OK) {
		fail_fido(c, "fido_dev_set_pin", r);
		close_device(&dev);
	}
	return dev;
}

/* ---- credman ---------------------------------------------------------------------------------------- */

static void j_metadata(struct check *c, fido_dev_t *dev, const char *pin, const char *k)
{
	fido_credman_metadata_t *md = fido_credman_metadata_new();
	int r = FIDO_ERR_INTERNAL;

	key(c, k);
	if (md == NULL || (r = fido_credman_get_dev_metadata(dev, md, pin)) != FIDO_OK) {
		fputs("null", c->f);
		fail_fido(c, "fido_credman_get_dev_metadata", md == NULL ? FIDO_ERR_INTERNAL : r);
	} else {
		fprintf(c->f, "{\"existing\":%llu,\"remaining\":%llu}", (unsigned long long)fido_credman_rk_existing(md),
		    (unsigned long long)fido_credman_rk_remaining(md));
	}
	fido_credman_metadata_free(&md);
}

/* The index in `rk` of the credential with the ID of `want`, or -1. */
static long find_rk(const fido_credman_rk_t *rk, const fido_cred_t *want)
{
	for (size_t i = 0; i < fido_credman_rk_count(rk); i++) {
		const fido_cred_t *got = fido_credman_rk(rk, i);
		if (same_bytes(fido_cred_id_ptr(got), fido_cred_id_len(got), fido_cred_id_ptr(want), fido_cred_id_len(want)))
			return (long)i;
	}
	return -1;
}

void cmd_credman(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_cred_t *a1 = NULL, *a2 = NULL, *b1 = NULL, *nonrk = NULL;
	char rp_a[64], rp_b[64];
	int r;

	check_begin(&c, "credman.setup");
	if ((dev = open_with_pin(&c, host, port, PIN)) != NULL) {
		struct mc o = { .rk = true, .pin = PIN, .name = "ann" };
		j_bool(&c, "supportsCredman", fido_dev_supports_credman(dev));
		unique_rp_id(rp_a, sizeof(rp_a), "lf-cm-a");
		unique_rp_id(rp_b, sizeof(rp_b), "lf-cm-b");
		if ((r = make(dev, rp_a, &o, &a1)) != FIDO_OK)
			fail_fido(&c, "make_cred a1", r);
		o.name = "bob";
		o.prot = FIDO_CRED_PROT_UV_OPTIONAL_WITH_ID;
		if ((r = make(dev, rp_a, &o, &a2)) != FIDO_OK)
			fail_fido(&c, "make_cred a2", r);
		o.name = "cat";
		o.prot = 0;
		if ((r = make(dev, rp_b, &o, &b1)) != FIDO_OK)
			fail_fido(&c, "make_cred b1", r);
		o.rk = false;
		o.name = "nonrk";
		if ((r = make(dev, rp_a, &o, &nonrk)) != FIDO_OK)
			fail_fido(&c, "make_cred nonrk", r);
	}
	check_end(&c);
	if (dev == NULL || a1 == NULL || a2 == NULL || b1 == NULL)
		goto out;

	check_begin(&c, "credman.metadata");
	j_metadata(&c, dev, PIN, "metadata");
	{
		fido_credman_metadata_t *md = fido_credman_metadata_new();
		j_int(&c, "wrongPin", md == NULL ? FIDO_ERR_INTERNAL : fido_credman_get_dev_metadata(dev, md, WRONG_PIN));
		fido_credman_metadata_free(&md);
	}
	check_end(&c);

	{
		fido_credman_rp_t *rp = fido_credman_rp_new();

		check_begin(&c, "credman.rp");
		if (rp == NULL || (r = fido_credman_get_dev_rp(dev, rp, PIN)) != FIDO_OK) {
			fail_fido(&c, "fido_credman_get_dev_rp", rp == NULL ? FIDO_ERR_INTERNAL : r);
		} else {
			bool seen_a = false, seen_b = false;
			j_int(&c, "count", (long long)fido_credman_rp_count(rp));
			key(&c, "rps");
			fputc('[', c.f);
			for (size_t i = 0; i < fido_credman_rp_count(rp); i++) {
				const char *id = fido_credman_rp_id(rp, i);
				if (id != NULL) {
					seen_a |= strcmp(id, rp_a) == 0;
					seen_b |= strcmp(id, rp_b) == 0;
				}
				fprintf(c.f, "%s{\"name\":", i ? "," : "");
				put_str(c.f, fido_credman_rp_name(rp, i));
				fprintf(c.f, ",\"hashLength\":%zu}", fido_credman_rp_id_hash_len(rp, i));
			}
			fputc(']', c.f);
			/* The authData of a credential carries SHA-256(rpId): the enumerated hash must equal it. */
			for (size_t i = 0; i < fido_credman_rp_count(rp); i++) {
				const char *id = fido_credman_rp_id(rp, i);
				const fido_cred_t *ref = id && strcmp(id, rp_a) == 0 ? a1 : b1;
				if (fido_credman_rp_id_hash_len(rp, i) != 32 || fido_cred_authdata_raw_len(ref) < 32 ||
				    memcmp(fido_credman_rp_id_hash_ptr(rp, i), fido_cred_authdata_raw_ptr(ref), 32) != 0)
					fail(&c, "rpIDHash of RP %zu is not SHA-256(rp.id)", i);
			}
			j_bool(&c, "sawBoth", seen_a && seen_b);
			if (!seen_a || !seen_b)
				fail(&c, "enumerated RPs lack RP A or RP B");
		}
		check_end(&c);
		fido_credman_rp_free(&rp);
	}

	{
		fido_credman_rk_t *rk = fido_credman_rk_new();

		check_begin(&c, "credman.rk");
		if (rk == NULL || (r = fido_credman_get_dev_rk(dev, rp_a, rk, PIN)) != FIDO_OK) {
			fail_fido(&c, "fido_credman_get_dev_rk", rk == NULL ? FIDO_ERR_INTERNAL : r);
		} else {
			const fido_cred_t *made[2] = { a1, a2 };
			int prot[2] = { -1, -1 };
			j_int(&c, "count", (long long)fido_credman_rk_count(rk));
			for (size_t k = 0; k < 2; k++) {
				long i = find_rk(rk, made[k]);
				const fido_cred_t *got;
				if (i < 0) {
					fail(&c, "credential %zu not enumerated", k);
					continue;
				}
				got = fido_credman_rk(rk, (size_t)i);
				prot[k] = fido_cred_prot(got);
				if (!same_bytes(fido_cred_user_id_ptr(got), fido_cred_user_id_len(got), fido_cred_user_id_ptr(made[k]),
					fido_cred_user_id_len(made[k])))
					fail(&c, "credential %zu: user ID differs", k);
				if (fido_cred_user_name(got) == NULL || strcmp(fido_cred_user_name(got), fido_cred_user_name(made[k])) != 0)
					fail(&c, "credential %zu: user name differs", k);
				if (!same_bytes(fido_cred_pubkey_ptr(got), fido_cred_pubkey_len(got), fido_cred_pubkey_ptr(made[k]),
					fido_cred_pubkey_len(made[k])))
					fail(&c, "credential %zu: public key differs from make_cred's", k);
			}
			j_codes(&c, "credProtect", prot, 2);
		}
		check_end(&c);
		fido_credman_rk_free(&rk);
	}

	{
		fido_cred_t *upd = fido_cred_new();
		fido_credman_rk_t *rk = fido_credman_rk_new();

		check_begin(&c, "credman.update");
		if (upd == NULL || rk == NULL ||
		    fido_cred_set_id(upd, fido_cred_id_ptr(a1), fido_cred_id_len(a1)) != FIDO_OK ||
		    fido_cred_set_user(upd, fido_cred_user_id_ptr(a1), fido_cred_user_id_len(a1), "ann.new", "Ann New", NULL) != FIDO_OK) {
			fail(&c, "cannot build the update");
		} else if ((r = fido_credman_set_dev_rk(dev, upd, PIN)) != FIDO_OK) {
			fail_fido(&c, "fido_credman_set_dev_rk", r);
		} else if ((r = fido_credman_get_dev_rk(dev, rp_a, rk, PIN)) != FIDO_OK) {
			fail_fido(&c, "fido_credman_get_dev_rk", r);
		} else {
			long i = find_rk(rk, a1);
			const fido_cred_t *got = i >= 0 ? fido_credman_rk(rk, (size_t)i) : NULL;
			j_str(&c, "name", got ? fido_cred_user_name(got) : NULL);
			j_str(&c, "displayName", got ? fido_cred_display_name(got) : NULL);
		}
		check_end(&c);
		fido_credman_rk_free(&rk);
		fido_cred_free(&upd);
	}

	{
		fido_credman_rk_t *rk = fido_credman_rk_new();
		fido_credman_rp_t *rp = fido_credman_rp_new();
		fido_assert_t *a = NULL;
		struct ga g = { .allow = { a2 } };

		check_begin(&c, "credman.delete");
		if ((r = fido_credman_del_dev_rk(dev, fido_cred_id_ptr(a2), fido_cred_id_len(a2), PIN)) != FIDO_OK)
			fail_fido(&c, "fido_credman_del_dev_rk", r);
		j_metadata(&c, dev, PIN, "metadataAfter");
		if (rk == NULL || (r = fido_credman_get_dev_rk(dev, rp_a, rk, PIN)) != FIDO_OK)
			fail_fido(&c, "fido_credman_get_dev_rk", rk == NULL ? FIDO_ERR_INTERNAL : r);
		else
			j_int(&c, "leftForRpA", (long long)fido_credman_rk_count(rk));
		j_int(&c, "assertWithDeleted", get_assert_opts(dev, rp_a, &g, &a));
		j_int(&c, "deleteAgain", fido_credman_del_dev_rk(dev, fido_cred_id_ptr(a2), fido_cred_id_len(a2), PIN));
		if ((r = fido_credman_del_dev_rk(dev, fido_cred_id_ptr(b1), fido_cred_id_len(b1), PIN)) != FIDO_OK)
			fail_fido(&c, "fido_credman_del_dev_rk(b1)", r);
		if (rp == NULL || (r = fido_credman_get_dev_rp(dev, rp, PIN)) != FIDO_OK)
			fail_fido(&c, "fido_credman_get_dev_rp", rp == NULL ? FIDO_ERR_INTERNAL : r);
		else
			j_int(&c, "rpsAfterDeletingB", (long long)fido_credman_rp_count(rp));
		check_end(&c);
		fido_assert_free(&a);
		fido_credman_rp_free(&rp);
		fido_credman_rk_free(&rk);
	}
out:
	fido_cred_free(&a1);
	fido_cred_free(&a2);
	fido_cred_free(&b1);
	fido_cred_free(&nonrk);
	close_device(&dev);
}

/* ---- largeblob -------------------------------------------------------------------------------------- */

/* fido_dev_largeblob_get into a fresh buffer; compares with want (if not NULL). Returns the libfido2 code. */
static int blob_get(fido_dev_t *dev, const fido_cred_t *cred, const unsigned char *want, size_t want_len, bool *same)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r = fido_dev_largeblob_get(dev, fido_cred_largeblob_key_ptr(cred), fido_cred_largeblob_key_len(cred), &buf, &len);

	*same = r == FIDO_OK && want != NULL && len == want_len && memcmp(buf, want, len) == 0;
	free(buf);
	return r;
}

void cmd_largeblob(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_cbor_info_t *ci = NULL;
	fido_cred_t *c1 = NULL, *c2 = NULL;
	char rp_id[64];
	uint64_t max_array = 0;
	int r;

	check_begin(&c, "largeblob.setup");
	if ((dev = open_with_pin(&c, host, port, PIN)) != NULL && get_info(&c, dev, &ci)) {
		struct mc o = { .rk = true, .pin = PIN, .ext = FIDO_EXT_LARGEBLOB_KEY };
		max_array = fido_cbor_info_maxlargeblob(ci);
		j_int(&c, "maxLargeBlob", (long long)max_array);
		j_option(&c, ci, "largeBlobs");
		unique_rp_id(rp_id, sizeof(rp_id), "lf-lb");
		if ((r = make(dev, rp_id, &o, &c1)) != FIDO_OK || (r = make(dev, rp_id, &o, &c2)) != FIDO_OK) {
			fail_fido(&c, "make_cred with FIDO_EXT_LARGEBLOB_KEY", r);
		} else {
			fido_assert_t *a = NULL;
			struct ga g = { .allow = { c1 }, .ext = FIDO_EXT_LARGEBLOB_KEY };
			j_int(&c, "keyLength", (long long)fido_cred_largeblob_key_len(c1));
			j_bool(&c, "distinct", !same_bytes(fido_cred_largeblob_key_ptr(c1), fido_cred_largeblob_key_len(c1),
						      fido_cred_largeblob_key_ptr(c2), fido_cred_largeblob_key_len(c2)));
			if ((r = verify_cred(c1)) != FIDO_OK)
				fail_fido(&c, "verify credential", r);
			if ((r = get_assert_opts(dev, rp_id, &g, &a)) != FIDO_OK)
				fail_fido(&c, "get_assert with FIDO_EXT_LARGEBLOB_KEY", r);
			else
				j_bool(&c, "assertionKeyMatches",
				    same_bytes(fido_assert_largeblob_key_ptr(a, 0), fido_assert_largeblob_key_len(a, 0),
					fido_cred_largeblob_key_ptr(c1), fido_cred_largeblob_key_len(c1)));
			fido_assert_free(&a);
		}
	}
	check_end(&c);
	fido_cbor_info_free(&ci);
	if (dev == NULL || c1 == NULL || c2 == NULL)
		goto out;

	{
		unsigned char *arr = NULL;
		size_t len = 0;
		bool same;

		check_begin(&c, "largeblob.initial");
		j_int(&c, "get", blob_get(dev, c1, NULL, 0, &same));
		if ((r = fido_dev_largeblob_get_array(dev, &arr, &len)) != FIDO_OK)
			fail_fido(&c, "fido_dev_largeblob_get_array", r);
		else
			j_hex(&c, "array", arr, len); /* libfido2 returns the CBOR array without the hash */
		free(arr);
		check_end(&c);
	}

	{
		static const unsigned char small[] = "a small blob for credential one";
		/* libfido2 writes fragments of min(maxMsgSize, 2048) - 64 bytes: 3000 incompressible bytes take two. */
		size_t big_len = max_array >= 3600 ? 3000 : (size_t)(max_array > 600 ? max_array - 500 : 64);
		unsigned char *big = malloc(big_len);
		unsigned char *arr = NULL;
		size_t arr_len = 0;
		bool s1 = false, s2 = false;
		int g1, g2;

		check_begin(&c, "largeblob.set_get");
		if (big == NULL) {
			fail(&c, "malloc");
		} else {
			random_fill(big, big_len); /* incompressible: the array grows past one fragment */
			if ((r = fido_dev_largeblob_set(dev, fido_cred_largeblob_key_ptr(c1), fido_cred_largeblob_key_len(c1), small,
				 sizeof(small), PIN)) != FIDO_OK)
				fail_fido(&c, "fido_dev_largeblob_set(small)", r);
			g1 = blob_get(dev, c1, small, sizeof(small), &s1);
			j_int(&c, "getSmall", g1);
			j_bool(&c, "smallMatches", s1);
			if ((r = fido_dev_largeblob_set(dev, fido_cred_largeblob_key_ptr(c2), fido_cred_largeblob_key_len(c2), big,
				 big_len, PIN)) != FIDO_OK)
				fail_fido(&c, "fido_dev_largeblob_set(big)", r);
			g2 = blob_get(dev, c2, big, big_len, &s2);
			g1 = blob_get(dev, c1, small, sizeof(small), &s1);
			j_int(&c, "bigLength", (long long)big_len);
			j_int(&c, "getBig", g2);
			j_bool(&c, "bigMatches", s2);
			j_bool(&c, "smallStillMatches", s1);
			if ((r = fido_dev_largeblob_get_array(dev, &arr, &arr_len)) != FIDO_OK)
				fail_fido(&c, "fido_dev_largeblob_get_array", r);
			j_int(&c, "arrayLength", (long long)arr_len + 16);
			j_int(&c, "wrongPin", fido_dev_largeblob_set(dev, fido_cred_largeblob_key_ptr(c1), fido_cred_largeblob_key_len(c1),
						   small, sizeof(small), WRONG_PIN));
		}
		free(arr);
		free(big);
		check_end(&c);
	}

	{
		bool s;

		check_begin(&c, "largeblob.remove");
		if ((r = fido_dev_largeblob_remove(dev, fido_cred_largeblob_key_ptr(c1), fido_cred_largeblob_key_len(c1), PIN)) != FIDO_OK)
			fail_fido(&c, "fido_dev_largeblob_remove", r);
		j_int(&c, "getRemoved", blob_get(dev, c1, NULL, 0, &s));
		j_int(&c, "getOther", blob_get(dev, c2, NULL, 0, &s));
		j_int(&c, "removeAgain",
		    fido_dev_largeblob_remove(dev, fido_cred_largeblob_key_ptr(c1), fido_cred_largeblob_key_len(c1), PIN));
		check_end(&c);
	}
out:
	fido_cred_free(&c1);
	fido_cred_free(&c2);
	close_device(&dev);
}

/* ---- config ----------------------------------------------------------------------------------------- */

static void j_info_state(struct check *c, fido_dev_t *dev, const char *prefix)
{
	fido_cbor_info_t *ci = NULL;

	if (!get_info(c, dev, &ci))
		return;
	key(c, prefix);
	fprintf(c->f, "{\"alwaysUv\":%d,\"makeCredUvNotRqd\":%d,\"ep\":%d,\"minPinLength\":%llu,\"forcePinChange\":%s}",
	    info_option(ci, "alwaysUv"), info_option(ci, "makeCredUvNotRqd"), info_option(ci, "ep"),
	    (unsigned long long)fido_cbor_info_minpinlen(ci), fido_cbor_info_new_pin_required(ci) ? "true" : "false");
	fido_cbor_info_free(&ci);
}

void cmd_config(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_cbor_info_t *ci = NULL;
	const char *pin = PIN;
	int r;

	check_begin(&c, "config.info");
	if ((dev = open_with_pin(&c, host, port, PIN)) != NULL && get_info(&c, dev, &ci)) {
		j_option(&c, ci, "authnrCfg");
		j_option(&c, ci, "setMinPINLength");
		j_option(&c, ci, "alwaysUv");
		j_option(&c, ci, "ep");
		j_int(&c, "maxRpidsForSetMinPinLength", (long long)fido_cbor_info_maxrpid_minpinlen(ci));
	}
	check_end(&c);
	fido_cbor_info_free(&ci);
	if (dev == NULL)
		return;

	check_begin(&c, "config.entattest");
	j_int(&c, "wrongPin", fido_dev_enable_entattest(dev, WRONG_PIN));
	if ((r = fido_dev_enable_entattest(dev, pin)) != FIDO_OK)
		fail_fido(&c, "fido_dev_enable_entattest", r);
	j_info_state(&c, dev, "after");
	check_end(&c);

	{
		char rp_id[64];
		fido_cred_t *cred = NULL, *other = NULL;
		struct mc o = { 0 };
		struct ga g = { 0 };
		fido_assert_t *a = NULL;

		check_begin(&c, "config.always_uv");
		unique_rp_id(rp_id, sizeof(rp_id), "lf-auv");
		if ((r = make(dev, rp_id, &o, &cred)) != FIDO_OK) {
			fail_fido(&c, "make_cred without PIN before alwaysUv", r);
		} else if ((r = fido_dev_toggle_always_uv(dev, pin)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_toggle_always_uv", r);
		} else {
			g.allow[0] = cred;
			j_info_state(&c, dev, "on");
			j_int(&c, "makeCredWithoutPin", make(dev, rp_id, &o, &other));
			fido_cred_free(&other);
			j_int(&c, "getAssertWithoutPin", get_assert_opts(dev, rp_id, &g, &a));
			fido_assert_free(&a);
			g.pin = pin;
			if ((r = get_assert_opts(dev, rp_id, &g, &a)) != FIDO_OK)
				fail_fido(&c, "get_assert with PIN under alwaysUv", r);
			else
				j_flags(&c, "withPinFlags", fido_assert_flags(a, 0));
			fido_assert_free(&a);
			if ((r = fido_dev_toggle_always_uv(dev, pin)) != FIDO_OK)
				fail_fido(&c, "fido_dev_toggle_always_uv (off)", r);
			j_info_state(&c, dev, "off");
			g.pin = NULL;
			j_int(&c, "getAssertWithoutPinAfter", get_assert_opts(dev, rp_id, &g, &a));
			fido_assert_free(&a);
		}
		check_end(&c);
		fido_cred_free(&cred);
	}

	{
		char rp_id[64];
		fido_cred_t *cred = NULL;
		struct mc o = { 0 };

		check_begin(&c, "config.min_pin_length");
		unique_rp_id(rp_id, sizeof(rp_id), "lf-mpl");
		if ((r = fido_dev_set_pin_minlen(dev, 8, pin)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_set_pin_minlen(8)", r);
		} else {
			j_info_state(&c, dev, "after");
			o.pin = pin;
			j_int(&c, "makeCredBeforeChange", make(dev, rp_id, &o, &cred));
			fido_cred_free(&cred);
			j_int(&c, "changeToSeven", fido_dev_set_pin(dev, SEVEN_PIN, pin));
			if ((r = fido_dev_set_pin(dev, LONG_PIN, pin)) != FIDO_OK)
				fail_fido(&c, "fido_dev_set_pin(8 characters)", r);
			else
				pin = LONG_PIN;
			j_info_state(&c, dev, "changed");
			o.pin = pin;
			j_int(&c, "makeCredAfterChange", make(dev, rp_id, &o, &cred));
			fido_cred_free(&cred);
			j_int(&c, "lowerTo4", fido_dev_set_pin_minlen(dev, 4, pin));
		}
		check_end(&c);
	}

	check_begin(&c, "config.force_change");
	if ((r = fido_dev_force_pin_change(dev, pin)) != FIDO_OK) {
		fail_fido(&c, "fido_dev_force_pin_change", r);
	} else {
		j_info_state(&c, dev, "after");
		if ((r = fido_dev_set_pin(dev, NEXT_PIN, pin)) != FIDO_OK)
			fail_fido(&c, "fido_dev_set_pin after force change", r);
		else
			pin = NEXT_PIN;
		j_info_state(&c, dev, "changed");
	}
	check_end(&c);

	{
		char listed[64], other[64];
		const char *rpids[1] = { listed };
		fido_cred_t *cred = NULL;
		struct mc o = { .minpin = 8 };

		check_begin(&c, "config.min_pin_length_rpid");
		unique_rp_id(listed, sizeof(listed), "lf-mpl-listed");
		unique_rp_id(other, sizeof(other), "lf-mpl-other");
		o.pin = pin;
		if ((r = fido_dev_set_pin_minlen_rpid(dev, rpids, 1, pin)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_set_pin_minlen_rpid", r);
		} else {
			if ((r = make(dev, listed, &o, &cred)) != FIDO_OK) {
				fail_fido(&c, "make_cred with FIDO_EXT_MINPINLEN (listed RP)", r);
			} else {
				j_int(&c, "listed", authdata_ext(cred, "minPinLength"));
				j_int(&c, "listedVerify", verify_cred(cred));
			}
			fido_cred_free(&cred);
			if ((r = make(dev, other, &o, &cred)) != FIDO_OK)
				fail_fido(&c, "make_cred with FIDO_EXT_MINPINLEN (other RP)", r);
			else
				j_int(&c, "other", authdata_ext(cred, "minPinLength"));
			fido_cred_free(&cred);
		}
		check_end(&c);
	}
	close_device(&dev);
}

/* ---- hmac ------------------------------------------------------------------------------------------- */

/* One get_assert with salt (32 or 64 bytes); the decrypted output in out (its length in *out_len). */
static int hmac_get(fido_dev_t *dev, const char *rp_id, const fido_cred_t *cred, const char *pin, const unsigned char *salt,
    size_t salt_len, unsigned char *out, size_t *out_len, unsigned *flags)
{
	fido_assert_t *a = NULL;
	struct ga g = { .allow = { cred }, .pin = pin, .ext = FIDO_EXT_HMAC_SECRET, .salt = salt, .salt_len = salt_len };
	int r = get_assert_opts(dev, rp_id, &g, &a);

	*out_len = 0;
	if (r == FIDO_OK) {
		size_t n = fido_assert_hmac_secret_len(a, 0);
		*flags = fido_assert_flags(a, 0);
		if (n > 2 * SALT_LEN || (r = verify_with(a, 0, cred)) != FIDO_OK) {
			r = r == FIDO_OK ? FIDO_ERR_INTERNAL : r;
		} else {
			memcpy(out, fido_assert_hmac_secret_ptr(a, 0), n);
			*out_len = n;
		}
	}
	fido_assert_free(&a);
	return r;
}

/* Outputs for salt1, salt1 again, salt2, salt1||salt2; checks and reports their relations. out1 := output(salt1). */
static void hmac_round(struct check *c, fido_dev_t *dev, const char *rp_id, const fido_cred_t *cred, const char *pin,
    const unsigned char *salts, unsigned char *out1)
{
	unsigned char o1[64], o1b[64], o2[64], both[64];
	size_t n1, n1b, n2, nb;
	unsigned flags = 0;
	int r;

	if ((r = hmac_get(dev, rp_id, cred, pin, salts, SALT_LEN, o1, &n1, &flags)) != FIDO_OK ||
	    (r = hmac_get(dev, rp_id, cred, pin, salts, SALT_LEN, o1b, &n1b, &flags)) != FIDO_OK ||
	    (r = hmac_get(dev, rp_id, cred, pin, salts + SALT_LEN, SALT_LEN, o2, &n2, &flags)) != FIDO_OK ||
	    (r = hmac_get(dev, rp_id, cred, pin, salts, 2 * SALT_LEN, both, &nb, &flags)) != FIDO_OK) {
		fail_fido(c, "fido_dev_get_assert with hmac-secret", r);
		return;
	}
	j_flags(c, "flags", flags);
	j_int(c, "outputLength", (long long)n1);
	j_int(c, "twoSaltOutputLength", (long long)nb);
	j_bool(c, "sameSaltSameOutput", n1 == SALT_LEN && same_bytes(o1, n1, o1b, n1b));
	j_bool(c, "otherSaltOtherOutput", n2 == SALT_LEN && !same_bytes(o1, n1, o2, n2));
	j_bool(c, "twoSalts", nb == 2 * SALT_LEN && n1 == SALT_LEN && n2 == SALT_LEN && memcmp(both, o1, SALT_LEN) == 0 &&
				  memcmp(both + SALT_LEN, o2, SALT_LEN) == 0);
	if (n1 == SALT_LEN)
		memcpy(out1, o1, SALT_LEN);
}

void cmd_hmac(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_cbor_info_t *ci = NULL;
	fido_cred_t *cred = NULL;
	char rp_id[64];
	unsigned char salts[2 * SALT_LEN], nouv[SALT_LEN] = { 0 }, uv[SALT_LEN] = { 0 }, again[SALT_LEN] = { 0 };
	int r;

	check_begin(&c, "hmac.create");
	random_fill(salts, sizeof(salts));
	unique_rp_id(rp_id, sizeof(rp_id), "lf-hmac");
	if ((dev = open_device(&c, host, port)) != NULL && get_info(&c, dev, &ci)) {
		struct mc o = { .ext = FIDO_EXT_HMAC_SECRET };
		key(&c, "pinUvAuthProtocols");
		fputc('[', c.f);
		for (size_t i = 0; i < fido_cbor_info_protocols_len(ci); i++)
			fprintf(c.f, "%s%u", i ? "," : "", fido_cbor_info_protocols_ptr(ci)[i]);
		fputc(']', c.f);
		if ((r = make(dev, rp_id, &o, &cred)) != FIDO_OK) {
			fail_fido(&c, "make_cred with FIDO_EXT_HMAC_SECRET", r);
		} else {
			j_int(&c, "hmacSecret", authdata_ext(cred, "hmac-secret"));
			if ((r = verify_cred(cred)) != FIDO_OK)
				fail_fido(&c, "verify credential (extension outputs)", r);
		}
	}
	check_end(&c);
	fido_cbor_info_free(&ci);
	if (dev == NULL || cred == NULL)
		goto out;

	check_begin(&c, "hmac.no_uv");
	hmac_round(&c, dev, rp_id, cred, NULL, salts, nouv);
	check_end(&c);

	check_begin(&c, "hmac.uv");
	if ((r = fido_dev_set_pin(dev, PIN, NULL)) != FIDO_OK)
		fail_fido(&c, "fido_dev_set_pin", r);
	else
		hmac_round(&c, dev, rp_id, cred, PIN, salts, uv);
	j_bool(&c, "differsFromNoUv", memcmp(uv, nouv, SALT_LEN) != 0);
	check_end(&c);

	{
		unsigned char o[64];
		size_t n = 0;
		unsigned flags = 0;

		check_begin(&c, "hmac.no_uv_after_pin");
		if ((r = hmac_get(dev, rp_id, cred, NULL, salts, SALT_LEN, o, &n, &flags)) != FIDO_OK) {
			fail_fido(&c, "get_assert without PIN", r);
		} else {
			memcpy(again, o, n == SALT_LEN ? SALT_LEN : 0);
			j_flags(&c, "flags", flags);
			j_bool(&c, "sameAsBeforePin", n == SALT_LEN && memcmp(again, nouv, SALT_LEN) == 0);
		}
		check_end(&c);
	}
out:
	fido_cred_free(&cred);
	close_device(&dev);
}

/* ---- credprot --------------------------------------------------------------------------------------- */

/* Which of creds[0..2] (levels 1..3) a get_assert finds: a bitmask (bit level-1), or -(libfido2 code). */
static int found(fido_dev_t *dev, const char *rp_id, fido_cred_t *const *creds, const fido_cred_t *allow, const char *pin,
    unsigned *flags)
{
	fido_assert_t *a = NULL;
	struct ga g = { .allow = { allow }, .pin = pin };
	int r = get_assert_opts(dev, rp_id, &g, &a), mask = 0;

	if (r != FIDO_OK)
		return r > 0 ? -r : r;
	for (size_t i = 0; i < fido_assert_count(a); i++) {
		for (int l = 0; l < 3; l++) {
			/* Without an allow list libfido2 leaves the ID empty when the device omits it: match by user ID. */
			if (same_cred(a, i, creds[l]) ||
			    same_bytes(fido_assert_user_id_ptr(a, i), fido_assert_user_id_len(a, i), fido_cred_user_id_ptr(creds[l]),
				fido_cred_user_id_len(creds[l])))
				mask |= 1 << l;
		}
		*flags |= fido_assert_flags(a, i);
	}
	fido_assert_free(&a);
	return mask;
}

void cmd_credprot(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_cred_t *creds[3] = { NULL };
	char rp_id[64];
	int r;

	check_begin(&c, "credprot.create");
	unique_rp_id(rp_id, sizeof(rp_id), "lf-cp");
	if ((dev = open_with_pin(&c, host, port, PIN)) != NULL) {
		int prot[3] = { 0 }, hmac[3] = { 0 }, verified[3] = { 0 };
		j_bool(&c, "supportsCredProt", fido_dev_supports_cred_prot(dev));
		for (int l = 0; l < 3; l++) {
			struct mc o = { .rk = true, .pin = PIN, .prot = l + 1, .ext = l == 2 ? FIDO_EXT_HMAC_SECRET : 0 };
			if ((r = make(dev, rp_id, &o, &creds[l])) != FIDO_OK) {
				fail_fido(&c, "make_cred with fido_cred_set_prot", r);
				break;
			}
			prot[l] = authdata_ext(creds[l], "credProtect");
			hmac[l] = authdata_ext(creds[l], "hmac-secret");
			verified[l] = verify_cred(creds[l]);
		}
		j_codes(&c, "credProtect", prot, 3);
		j_codes(&c, "hmacSecret", hmac, 3);
		j_codes(&c, "verify", verified, 3);
	}
	check_end(&c);
	if (dev == NULL || creds[2] == NULL)
		goto out;

	{
		unsigned f1 = 0, f2 = 0, f3 = 0, f4 = 0, f5 = 0;

		check_begin(&c, "credprot.assert");
		/* found(): bit 0 = level 1, bit 1 = level 2, bit 2 = level 3; negative = -(error code). */
		j_int(&c, "noUvDiscoverable", found(dev, rp_id, creds, NULL, NULL, &f1));
		j_int(&c, "noUvAllowLevel2", found(dev, rp_id, creds, creds[1], NULL, &f2));
		j_int(&c, "noUvAllowLevel3", found(dev, rp_id, creds, creds[2], NULL, &f3));
		j_int(&c, "uvDiscoverable", found(dev, rp_id, creds, NULL, PIN, &f4));
		j_int(&c, "uvAllowLevel3", found(dev, rp_id, creds, creds[2], PIN, &f5));
		j_bool(&c, "noUvFlagsClear", !((f1 | f2) & FLAG_UV));
		j_bool(&c, "uvFlagsSet", (f4 & FLAG_UV) && (f5 & FLAG_UV));
		check_end(&c);
	}

	{
		unsigned char salt[SALT_LEN], o[64];
		size_t n = 0;
		unsigned flags = 0;

		check_begin(&c, "credprot.hmac_level3");
		random_fill(salt, sizeof(salt));
		j_int(&c, "withoutPin", hmac_get(dev, rp_id, creds[2], NULL, salt, SALT_LEN, o, &n, &flags));
		if ((r = hmac_get(dev, rp_id, creds[2], PIN, salt, SALT_LEN, o, &n, &flags)) != FIDO_OK)
			fail_fido(&c, "get_assert with PIN and hmac-secret", r);
		j_int(&c, "outputLength", (long long)n);
		j_flags(&c, "flags", flags);
		check_end(&c);
	}
out:
	for (int l = 0; l < 3; l++)
		fido_cred_free(&creds[l]);
	close_device(&dev);
}

/* ---- u2f -------------------------------------------------------------------------------------------- */

void cmd_u2f(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev, *ctap2 = NULL;
	fido_cred_t *cred = NULL, *again = NULL;
	char rp_id[64];
	bool fido2_before = false;
	int r;

	check_begin(&c, "u2f.open");
	if ((dev = open_device(&c, host, port)) != NULL) {
		fido2_before = fido_dev_is_fido2(dev);
		fido_dev_force_u2f(dev);
		j_bool(&c, "fido2BeforeForce", fido2_before);
		j_bool(&c, "fido2AfterForce", fido_dev_is_fido2(dev));
		j_int(&c, "capabilities", fido_dev_flags(dev));
	}
	check_end(&c);
	if (dev == NULL)
		return;
	unique_rp_id(rp_id, sizeof(rp_id), "lf-u2f");

	check_begin(&c, "u2f.make_cred");
	{
		struct mc o = { 0 };
		if ((r = make(dev, rp_id, &o, &cred)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_make_cred over U2F", r);
		} else {
			j_str(&c, "fmt", fido_cred_fmt(cred));
			j_flags(&c, "flags", fido_cred_flags(cred));
			j_hex(&c, "aaguid", fido_cred_aaguid_ptr(cred), fido_cred_aaguid_len(cred));
			j_int(&c, "x5cLength", (long long)fido_cred_x5c_len(cred));
			j_int(&c, "credentialIdLength", (long long)fido_cred_id_len(cred));
			if ((r = fido_cred_verify(cred)) != FIDO_OK)
				fail_fido(&c, "fido_cred_verify (fido-u2f)", r);
			j_str(&c, "verifiedBy", "fido_cred_verify");
			o.exclude = cred;
			j_int(&c, "excluded", make(dev, rp_id, &o, &again));
		}
	}
	check_end(&c);
	if (cred == NULL)
		goto out;

	{
		fido_assert_t *a = NULL;
		struct ga g = { .allow = { cred } };
		int counts[2] = { -1, -1 };
		unsigned flags[2] = { 0, 0 };
		char other[64];

		check_begin(&c, "u2f.get_assert");
		for (int i = 0; i < 2; i++) {
			if ((r = get_assert_opts(dev, rp_id, &g, &a)) != FIDO_OK) {
				fail_fido(&c, "fido_dev_get_assert over U2F", r);
				break;
			}
			if (!same_cred(a, 0, cred))
				fail(&c, "the assertion names another credential");
			if ((r = verify_with(a, 0, cred)) != FIDO_OK)
				fail_fido(&c, "fido_assert_verify", r);
			counts[i] = (int)fido_assert_sigcount(a, 0);
			flags[i] = fido_assert_flags(a, 0);
			fido_assert_free(&a);
		}
		j_flags(&c, "flags", flags[0] | flags[1]);
		j_codes(&c, "signCounts", counts, 2);
		unique_rp_id(other, sizeof(other), "lf-u2f-other");
		j_int(&c, "otherRp", get_assert_opts(dev, other, &g, &a));
		fido_assert_free(&a);
		check_end(&c);
	}

	if (fido2_before) {
		fido_assert_t *a = NULL;
		struct ga g = { .allow = { cred } };

		check_begin(&c, "u2f.ctap2_get_assert");
		if ((ctap2 = open_device(&c, host, port)) != NULL) {
			j_bool(&c, "fido2", fido_dev_is_fido2(ctap2));
			if ((r = get_assert_opts(ctap2, rp_id, &g, &a)) != FIDO_OK) {
				fail_fido(&c, "CTAP2 fido_dev_get_assert with the U2F credential", r);
			} else {
				if ((r = verify_with(a, 0, cred)) != FIDO_OK)
					fail_fido(&c, "fido_assert_verify", r);
				j_flags(&c, "flags", fido_assert_flags(a, 0));
				j_int(&c, "signCount", (long long)fido_assert_sigcount(a, 0));
			}
		}
		fido_assert_free(&a);
		check_end(&c);
	}
out:
	fido_cred_free(&again);
	fido_cred_free(&cred);
	close_device(&ctap2);
	close_device(&dev);
}
