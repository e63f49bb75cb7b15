/*
 * vfido-fido2: drive a vfido device over UDP with libfido2 (through vfido_udp.c) and print one JSON object
 * per check on stdout: {"check": "...", "ok": true|false, "detail": {...}}. Exit status 1 if a check failed.
 *
 *   vfido-fido2 info|make_cred|get_assert|exclude|pin|uv|bio|credman|largeblob|config|hmac|credprot|u2f PORT [HOST]
 *
 * info        fido_dev_open (CTAPHID INIT + getInfo), fido_dev_get_cbor_info
 * make_cred   ES256 and EdDSA, rk and not; attestation checked with fido_cred_verify (packed x5c) or
 *             fido_cred_verify_self (packed self); fmt "none" has nothing to verify
 * get_assert  per algorithm: a new credential in the allow list, fido_assert_verify with its public key;
 *             then 3 discoverable credentials fetched without allow list (libfido2 calls getNextAssertion)
 * exclude     makeCredential with the credential in the exclude list -> FIDO_ERR_CREDENTIAL_EXCLUDED
 * pin, uv, bio  PIN, built-in UV and fingerprint enrollment: see driver_uv.c
 * credman, largeblob, config, hmac, credprot, u2f  issue 4: see driver_ext.c
 *
 * VFIDO_FIDO2_DEBUG=1 in the environment turns on libfido2's debug log (stderr).
 */
#define _GNU_SOURCE /* open_memstream, getrandom */

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "driver.h"
#include "vfido_udp.h"

#define DISCOVERABLE_COUNT 3

static int failures;

/* ---- JSON output ------------------------------------------------------------------------------------ */

void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void check_begin(struct check *c, const char *fmt, ...)
{
	va_list ap;

	memset(c, 0, sizeof(*c));
	va_start(ap, fmt);
	vsnprintf(c->name, sizeof(c->name), fmt, ap);
	va_end(ap);
	if ((c->f = open_memstream(&c->buf, &c->len)) == NULL) {
		perror("open_memstream");
		exit(2);
	}
}

/* Record a failure (the first one is reported). Returns false so callers can `return fail(...)`. */
bool fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->error[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->error, sizeof(c->error), fmt, ap);
		va_end(ap);
	}
	return false;
}

bool fail_fido(struct check *c, const char *what, int r)
{
	return fail(c, "%s: %s (%d)", what, fido_strerr(r), r);
}

void key(struct check *c, const char *k)
{
	if (c->members++ > 0)
		fputc(',', c->f);
	put_str(c->f, k);
	fputc(':', c->f);
}

void j_str(struct check *c, const char *k, const char *v)
{
	key(c, k);
	if (v == NULL)
		fputs("null", c->f);
	else
		put_str(c->f, v);
}

void j_int(struct check *c, const char *k, long long v)
{
	key(c, k);
	fprintf(c->f, "%lld", v);
}

void j_bool(struct check *c, const char *k, bool v)
{
	key(c, k);
	fputs(v ? "true" : "false", c->f);
}

void j_hex(struct check *c, const char *k, const unsigned char *p, size_t n)
{
	key(c, k);
	fputc('"', c->f);
	for (size_t i = 0; p != NULL && i < n; i++)
		fprintf(c->f, "%02x", p[i]);
	fputc('"', c->f);
}

void j_flags(struct check *c, const char *k, unsigned flags)
{
	key(c, k);
	fprintf(c->f, "{\"up\":%s,\"uv\":%s,\"at\":%s,\"raw\":%u}", (flags & FLAG_UP) ? "true" : "false",
	    (flags & FLAG_UV) ? "true" : "false", (flags & FLAG_AT) ? "true" : "false", flags);
}

void check_end(struct check *c)
{
	bool ok = c->error[0] == '\0';

	if (!ok)
		j_str(c, "error", c->error);
	fclose(c->f);
	printf("{\"check\":");
	put_str(stdout, c->name);
	printf(",\"ok\":%s,\"detail\":{%s}}\n", ok ? "true" : "false", c->buf);
	fflush(stdout);
	free(c->buf);
	if (!ok)
		failures++;
}

/* ---- helpers ---------------------------------------------------------------------------------------- */

void random_fill(unsigned char *p, size_t n)
{
	if (getrandom(p, n, 0) != (ssize_t)n) {
		perror("getrandom");
		exit(2);
	}
}

/* An RP ID no other check uses, so checks sharing one device do not see each other's credentials. */
void unique_rp_id(char *out, size_t len, const char *prefix)
{
	unsigned char r[4];

	random_fill(r, sizeof(r));
	snprintf(out, len, "%s-%02x%02x%02x%02x.example.com", prefix, r[0], r[1], r[2], r[3]);
}

static const char *alg_name(int type)
{
	return type == COSE_ES256 ? "ES256" : type == COSE_EDDSA ? "EdDSA" : "?";
}

fido_dev_t *open_device(struct check *c, const char *host, unsigned port)
{
	fido_dev_t *dev;
	int r;

	if ((dev = fido_dev_new()) == NULL) {
		fail(c, "fido_dev_new failed");
		return NULL;
	}
	if ((r = fido_dev_set_timeout(dev, TIMEOUT_MS)) != FIDO_OK ||
	    (r = vfido_udp_dev_open(dev, host, port)) != FIDO_OK) {
		fail_fido(c, "open udp device", r);
		fido_dev_free(&dev);
		return NULL;
	}
	return dev;
}

void close_device(fido_dev_t **dev)
{
	if (*dev == NULL)
		return;
	fido_dev_close(*dev);
	fido_dev_free(dev);
}

fido_dev_t *open_check(const char *host, unsigned port, void (*extra)(struct check *c, fido_dev_t *dev))
{
	struct check c;
	fido_dev_t *dev;

	check_begin(&c, "open");
	if ((dev = open_device(&c, host, port)) != NULL && extra != NULL)
		extra(&c, dev);
	check_end(&c);
	return dev;
}

int make_cred_opts(fido_dev_t *dev, const char *rp_id, const struct mc *o, fido_cred_t **out)
{
	unsigned char cdh[32], random_id[16];
	const unsigned char *user_id = o->user_id ? o->user_id : random_id;
	size_t user_id_len = o->user_id ? o->user_id_len : sizeof(random_id);
	fido_cred_t *cred;
	int r;

	*out = NULL;
	random_fill(cdh, sizeof(cdh));
	random_fill(random_id, sizeof(random_id));
	if ((cred = fido_cred_new()) == NULL)
		return FIDO_ERR_INTERNAL;
	if ((r = fido_cred_set_type(cred, o->type ? o->type : COSE_ES256)) != FIDO_OK ||
	    (r = fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh))) != FIDO_OK ||
	    (r = fido_cred_set_rp(cred, rp_id, o->rp_name ? o->rp_name : "vfido interop")) != FIDO_OK ||
	    (r = fido_cred_set_user(cred, user_id, user_id_len, o->name ? o->name : "alice",
		 o->display_name ? o->display_name : "Alice", NULL)) != FIDO_OK ||
	    (r = fido_cred_set_rk(cred, o->rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT)) != FIDO_OK ||
	    (r = fido_cred_set_uv(cred, o->uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT)) != FIDO_OK ||
	    (o->ext && (r = fido_cred_set_extensions(cred, o->ext)) != FIDO_OK) ||
	    (o->prot && (r = fido_cred_set_prot(cred, o->prot)) != FIDO_OK) ||
	    (o->minpin && (r = fido_cred_set_pin_minlen(cred, o->minpin)) != FIDO_OK) ||
	    (o->exclude != NULL &&
		(r = fido_cred_exclude(cred, fido_cred_id_ptr(o->exclude), fido_cred_id_len(o->exclude))) != FIDO_OK) ||
	    (r = fido_dev_make_cred(dev, cred, o->pin)) != FIDO_OK) {
		fido_cred_free(&cred);
		return r;
	}
	*out = cred;
	return FIDO_OK;
}

int get_assert_opts(fido_dev_t *dev, const char *rp_id, const struct ga *o, fido_assert_t **out)
{
	unsigned char cdh[32];
	fido_assert_t *a;
	int r;

	*out = NULL;
	random_fill(cdh, sizeof(cdh));
	if ((a = fido_assert_new()) == NULL)
		return FIDO_ERR_INTERNAL;
	if ((r = fido_assert_set_rp(a, rp_id)) != FIDO_OK ||
	    (r = fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh))) != FIDO_OK)
		goto fail;
	for (size_t i = 0; i < 4 && o->allow[i] != NULL; i++)
		if ((r = fido_assert_allow_cred(a, fido_cred_id_ptr(o->allow[i]), fido_cred_id_len(o->allow[i]))) != FIDO_OK)
			goto fail;
	if ((r = fido_assert_set_uv(a, o->uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT)) != FIDO_OK ||
	    (o->ext && (r = fido_assert_set_extensions(a, o->ext)) != FIDO_OK) ||
	    (o->salt != NULL && (r = fido_assert_set_hmac_salt(a, o->salt, o->salt_len)) != FIDO_OK) ||
	    (r = fido_dev_get_assert(dev, a, o->pin)) != FIDO_OK)
		goto fail;
	*out = a;
	return FIDO_OK;
fail:
	fido_assert_free(&a);
	return r;
}

/* makeCredential for `rp_id` with a given user ID; the new credential in *out (caller frees). */
static int make_cred(fido_dev_t *dev, int type, bool rk, const char *rp_id, const unsigned char *user_id,
    size_t user_id_len, const fido_cred_t *exclude, fido_cred_t **out)
{
	struct mc o = { .type = type, .rk = rk, .user_id = user_id, .user_id_len = user_id_len, .exclude = exclude };

	return make_cred_opts(dev, rp_id, &o, out);
}

/* fido_assert_verify(assert, idx) with the public key of `cred`. */
int verify_with(const fido_assert_t *assert, size_t idx, const fido_cred_t *cred)
{
	int type = fido_cred_type(cred);
	const unsigned char *ptr = fido_cred_pubkey_ptr(cred);
	size_t len = fido_cred_pubkey_len(cred);
	int r;

	if (type == COSE_ES256) {
		es256_pk_t *pk = es256_pk_new();
		if (pk == NULL)
			return FIDO_ERR_INTERNAL;
		if ((r = es256_pk_from_ptr(pk, ptr, len)) == FIDO_OK)
			r = fido_assert_verify(assert, idx, type, pk);
		es256_pk_free(&pk);
		return r;
	}
	if (type == COSE_EDDSA) {
		eddsa_pk_t *pk = eddsa_pk_new();
		if (pk == NULL)
			return FIDO_ERR_INTERNAL;
		if ((r = eddsa_pk_from_ptr(pk, ptr, len)) == FIDO_OK)
			r = fido_assert_verify(assert, idx, type, pk);
		eddsa_pk_free(&pk);
		return r;
	}
	return FIDO_ERR_UNSUPPORTED_ALGORITHM;
}

/* getAssertion for `rp_id` (allow list: `allow`, or none); all assertions in *out (caller frees). */
static int get_assert(fido_dev_t *dev, const char *rp_id, const fido_cred_t *allow, fido_assert_t **out)
{
	struct ga g = { .allow = { allow } };

	return get_assert_opts(dev, rp_id, &g, out);
}

bool same_bytes(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	return a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0;
}

bool same_cred(const fido_assert_t *a, size_t i, const fido_cred_t *c)
{
	return same_bytes(fido_assert_id_ptr(a, i), fido_assert_id_len(a, i), fido_cred_id_ptr(c), fido_cred_id_len(c));
}

void j_codes(struct check *c, const char *k, const int *v, size_t n)
{
	key(c, k);
	fputc('[', c->f);
	for (size_t i = 0; i < n; i++)
		fprintf(c->f, "%s%d", i ? "," : "", v[i]);
	fputc(']', c->f);
}

/* ---- subcommands ------------------------------------------------------------------------------------ */

static void j_open_info(struct check *c, fido_dev_t *dev)
{
	j_bool(c, "fido2", fido_dev_is_fido2(dev));
	j_int(c, "ctaphidVersion", fido_dev_protocol(dev));
	j_int(c, "major", fido_dev_major(dev));
	j_int(c, "minor", fido_dev_minor(dev));
	j_int(c, "build", fido_dev_build(dev));
	j_int(c, "capabilities", fido_dev_flags(dev));
	if (!fido_dev_is_fido2(dev))
		fail(c, "libfido2 does not see a FIDO2 (CBOR) device");
}

static void cmd_info(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;
	fido_cbor_info_t *ci = NULL;
	int r;

	if ((dev = open_check(host, port, j_open_info)) == NULL)
		return;

	check_begin(&c, "info");
	if ((ci = fido_cbor_info_new()) == NULL) {
		fail(&c, "fido_cbor_info_new failed");
	} else if ((r = fido_dev_get_cbor_info(dev, ci)) != FIDO_OK) {
		fail_fido(&c, "fido_dev_get_cbor_info", r);
	} else {
		char **names;
		const bool *values;
		const uint8_t *protocols;
		size_t n;

		key(&c, "versions");
		fputc('[', c.f);
		names = fido_cbor_info_versions_ptr(ci);
		for (size_t i = 0; i < fido_cbor_info_versions_len(ci); i++) {
			fputs(i ? "," : "", c.f);
			put_str(c.f, names[i]);
		}
		fputc(']', c.f);
		key(&c, "extensions");
		fputc('[', c.f);
		names = fido_cbor_info_extensions_ptr(ci);
		for (size_t i = 0; i < fido_cbor_info_extensions_len(ci); i++) {
			fputs(i ? "," : "", c.f);
			put_str(c.f, names[i]);
		}
		fputc(']', c.f);
		j_hex(&c, "aaguid", fido_cbor_info_aaguid_ptr(ci), fido_cbor_info_aaguid_len(ci));
		key(&c, "options");
		fputc('{', c.f);
		names = fido_cbor_info_options_name_ptr(ci);
		values = fido_cbor_info_options_value_ptr(ci);
		for (size_t i = 0; i < fido_cbor_info_options_len(ci); i++) {
			fputs(i ? "," : "", c.f);
			put_str(c.f, names[i]);
			fputs(values[i] ? ":true" : ":false", c.f);
		}
		fputc('}', c.f);
		key(&c, "algorithms");
		fputc('[', c.f);
		for (size_t i = 0; i < fido_cbor_info_algorithm_count(ci); i++)
			fprintf(c.f, "%s%d", i ? "," : "", fido_cbor_info_algorithm_cose(ci, i));
		fputc(']', c.f);
		key(&c, "pinUvAuthProtocols");
		fputc('[', c.f);
		protocols = fido_cbor_info_protocols_ptr(ci);
		n = fido_cbor_info_protocols_len(ci);
		for (size_t i = 0; i < n; i++)
			fprintf(c.f, "%s%u", i ? "," : "", protocols[i]);
		fputc(']', c.f);
		key(&c, "transports");
		fputc('[', c.f);
		names = fido_cbor_info_transports_ptr(ci);
		for (size_t i = 0; i < fido_cbor_info_transports_len(ci); i++) {
			fputs(i ? "," : "", c.f);
			put_str(c.f, names[i]);
		}
		fputc(']', c.f);
		j_int(&c, "maxMsgSize", (long long)fido_cbor_info_maxmsgsiz(ci));
		j_int(&c, "maxCredentialCountInList", (long long)fido_cbor_info_maxcredcntlst(ci));
		j_int(&c, "maxCredentialIdLength", (long long)fido_cbor_info_maxcredidlen(ci));
		j_int(&c, "firmwareVersion", (long long)fido_cbor_info_fwversion(ci));
		j_int(&c, "remainingDiscoverableCredentials", (long long)fido_cbor_info_rk_remaining(ci));
		if (fido_cbor_info_versions_len(ci) == 0)
			fail(&c, "no versions in getInfo");
		if (fido_cbor_info_aaguid_len(ci) != 16)
			fail(&c, "aaguid is %zu bytes", fido_cbor_info_aaguid_len(ci));
	}
	check_end(&c);
	fido_cbor_info_free(&ci);
	close_device(&dev);
}

/* Report a new credential and check its attestation with libfido2's verifiers. */
static void describe_and_verify(struct check *c, const fido_cred_t *cred, int type)
{
	const char *fmt = fido_cred_fmt(cred);
	unsigned flags = fido_cred_flags(cred);
	int r;

	j_str(c, "fmt", fmt);
	j_int(c, "alg", fido_cred_type(cred));
	j_flags(c, "flags", flags);
	j_int(c, "signCount", fido_cred_sigcount(cred));
	j_int(c, "credentialIdLength", (long long)fido_cred_id_len(cred));
	j_int(c, "publicKeyLength", (long long)fido_cred_pubkey_len(cred));
	j_hex(c, "aaguid", fido_cred_aaguid_ptr(cred), fido_cred_aaguid_len(cred));
	j_int(c, "x5cLeafBytes", (long long)fido_cred_x5c_len(cred));
	if (fido_cred_type(cred) != type)
		fail(c, "credential type %d, requested %d", fido_cred_type(cred), type);
	if (!(flags & FLAG_UP) || !(flags & FLAG_AT))
		fail(c, "authData flags 0x%02x lack UP or AT", flags);
	if (fmt != NULL && strcmp(fmt, "none") == 0) {
		j_str(c, "attestationType", "none");
		j_str(c, "verifiedBy", NULL); /* nothing to verify for fmt "none" */
	} else if (fido_cred_x5c_len(cred) > 0) {
		j_str(c, "attestationType", "basic");
		j_str(c, "verifiedBy", "fido_cred_verify");
		if ((r = fido_cred_verify(cred)) != FIDO_OK)
			fail_fido(c, "fido_cred_verify", r);
	} else {
		j_str(c, "attestationType", "self");
		j_str(c, "verifiedBy", "fido_cred_verify_self");
		if ((r = fido_cred_verify_self(cred)) != FIDO_OK)
			fail_fido(c, "fido_cred_verify_self", r);
	}
}

static void cmd_make_cred(const char *host, unsigned port)
{
	static const int types[] = { COSE_ES256, COSE_EDDSA };
	struct check c;
	fido_dev_t *dev;

	if ((dev = open_check(host, port, NULL)) == NULL)
		return;
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (int rk = 0; rk <= 1; rk++) {
			char rp_id[64];
			unsigned char user_id[16];
			fido_cred_t *cred = NULL;
			int r;

			check_begin(&c, "make_cred.%s.%s", alg_name(types[t]), rk ? "rk" : "nonrk");
			unique_rp_id(rp_id, sizeof(rp_id), "lf-mc");
			random_fill(user_id, sizeof(user_id));
			j_bool(&c, "rk", rk);
			if ((r = make_cred(dev, types[t], rk, rp_id, user_id, sizeof(user_id), NULL, &cred)) != FIDO_OK)
				fail_fido(&c, "fido_dev_make_cred", r);
			else
				describe_and_verify(&c, cred, types[t]);
			check_end(&c);
			fido_cred_free(&cred);
		}
	}
	close_device(&dev);
}

static bool check_assertion(struct check *c, const fido_assert_t *a, size_t idx, const fido_cred_t *cred)
{
	unsigned flags = fido_assert_flags(a, idx);
	int r;

	if (!same_cred(a, idx, cred))
		return fail(c, "assertion %zu names another credential", idx);
	if (!(flags & FLAG_UP) || (flags & FLAG_AT))
		return fail(c, "assertion %zu flags 0x%02x: want UP set and AT clear", idx, flags);
	if ((r = verify_with(a, idx, cred)) != FIDO_OK)
		return fail_fido(c, "fido_assert_verify", r);
	return true;
}

static void cmd_get_assert(const char *host, unsigned port)
{
	static const int types[] = { COSE_ES256, COSE_EDDSA };
	struct check c;
	fido_dev_t *dev;

	if ((dev = open_check(host, port, NULL)) == NULL)
		return;

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		char rp_id[64];
		unsigned char user_id[16];
		fido_cred_t *cred = NULL;
		fido_assert_t *a = NULL;
		int r;

		check_begin(&c, "get_assert.%s", alg_name(types[t]));
		unique_rp_id(rp_id, sizeof(rp_id), "lf-ga");
		random_fill(user_id, sizeof(user_id));
		if ((r = make_cred(dev, types[t], false, rp_id, user_id, sizeof(user_id), NULL, &cred)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_make_cred", r);
		} else if ((r = get_assert(dev, rp_id, cred, &a)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_get_assert", r);
		} else {
			j_int(&c, "count", (long long)fido_assert_count(a));
			j_flags(&c, "flags", fido_assert_flags(a, 0));
			j_int(&c, "makeCredentialSignCount", fido_cred_sigcount(cred));
			j_int(&c, "signCount", fido_assert_sigcount(a, 0));
			if (fido_assert_count(a) != 1)
				fail(&c, "%zu assertions for an allow list of one", fido_assert_count(a));
			else
				check_assertion(&c, a, 0, cred);
		}
		check_end(&c);
		fido_assert_free(&a);
		fido_cred_free(&cred);
	}

	/* Discoverable: newest first, all of them through getNextAssertion (done inside libfido2). */
	{
		char rp_id[64];
		fido_cred_t *creds[DISCOVERABLE_COUNT] = { NULL };
		fido_assert_t *a = NULL;
		int r = FIDO_OK;

		check_begin(&c, "get_assert.discoverable");
		unique_rp_id(rp_id, sizeof(rp_id), "lf-disc");
		for (int i = 0; i < DISCOVERABLE_COUNT && r == FIDO_OK; i++) {
			unsigned char user_id[16];
			memset(user_id, i + 1, sizeof(user_id));
			r = make_cred(dev, i % 2 ? COSE_EDDSA : COSE_ES256, true, rp_id, user_id, sizeof(user_id), NULL,
			    &creds[i]);
		}
		if (r != FIDO_OK) {
			fail_fido(&c, "fido_dev_make_cred", r);
		} else if ((r = get_assert(dev, rp_id, NULL, &a)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_get_assert", r);
		} else {
			size_t n = fido_assert_count(a);

			j_int(&c, "count", (long long)n);
			key(&c, "userOrder");
			fputc('[', c.f);
			for (size_t i = 0; i < n; i++) {
				fputs(i ? "," : "", c.f);
				fprintf(c.f, "\"");
				for (size_t k = 0; k < fido_assert_user_id_len(a, i); k++)
					fprintf(c.f, "%02x", fido_assert_user_id_ptr(a, i)[k]);
				fprintf(c.f, "\"");
			}
			fputc(']', c.f);
			if (n != DISCOVERABLE_COUNT)
				fail(&c, "%zu assertions, expected %d", n, DISCOVERABLE_COUNT);
			for (size_t i = 0; i < n && i < DISCOVERABLE_COUNT; i++) {
				const fido_cred_t *expected = creds[DISCOVERABLE_COUNT - 1 - i]; /* newest first */
				if (!same_bytes(fido_assert_user_id_ptr(a, i), fido_assert_user_id_len(a, i),
					fido_cred_user_id_ptr(expected), fido_cred_user_id_len(expected)))
					fail(&c, "assertion %zu is not the credential created %zu-th newest", i, i + 1);
				else
					check_assertion(&c, a, i, expected);
			}
		}
		check_end(&c);
		fido_assert_free(&a);
		for (int i = 0; i < DISCOVERABLE_COUNT; i++)
			fido_cred_free(&creds[i]);
	}
	close_device(&dev);
}

static void cmd_exclude(const char *host, unsigned port)
{
	struct check c;
	fido_dev_t *dev;

	if ((dev = open_check(host, port, NULL)) == NULL)
		return;
	for (int rk = 0; rk <= 1; rk++) {
		char rp_id[64];
		unsigned char user_id[16];
		fido_cred_t *cred = NULL, *again = NULL;
		int r;

		check_begin(&c, "exclude.%s", rk ? "rk" : "nonrk");
		unique_rp_id(rp_id, sizeof(rp_id), "lf-excl");
		random_fill(user_id, sizeof(user_id));
		if ((r = make_cred(dev, COSE_ES256, rk, rp_id, user_id, sizeof(user_id), NULL, &cred)) != FIDO_OK) {
			fail_fido(&c, "fido_dev_make_cred", r);
		} else {
			r = make_cred(dev, COSE_ES256, rk, rp_id, user_id, sizeof(user_id), cred, &again);
			j_str(&c, "result", fido_strerr(r));
			j_int(&c, "code", r);
			if (r != FIDO_ERR_CREDENTIAL_EXCLUDED)
				fail(&c, "expected FIDO_ERR_CREDENTIAL_EXCLUDED, got %s (%d)", fido_strerr(r), r);
		}
		check_end(&c);
		fido_cred_free(&again);
		fido_cred_free(&cred);
	}
	close_device(&dev);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	char *end;
	unsigned long port;
	int init = FIDO_DISABLE_U2F_FALLBACK; /* a failed getInfo must fail the open, not degrade to U2F */

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s info|make_cred|get_assert|exclude|pin|uv|bio|credman|largeblob|config|hmac|credprot|u2f PORT [HOST]\n",
		    argv[0]);
		return 2;
	}
	port = strtoul(argv[2], &end, 10);
	if (*end != '\0' || port < 1 || port > 65535) {
		fprintf(stderr, "bad port '%s'\n", argv[2]);
		return 2;
	}
	if (argc == 4)
		host = argv[3];
	if (getenv("VFIDO_FIDO2_DEBUG") != NULL)
		init |= FIDO_DEBUG;
	fido_init(init);

	if (strcmp(argv[1], "info") == 0)
		cmd_info(host, (unsigned)port);
	else if (strcmp(argv[1], "make_cred") == 0)
		cmd_make_cred(host, (unsigned)port);
	else if (strcmp(argv[1], "get_assert") == 0)
		cmd_get_assert(host, (unsigned)port);
	else if (strcmp(argv[1], "exclude") == 0)
		cmd_exclude(host, (unsigned)port);
	else if (strcmp(argv[1], "pin") == 0)
		cmd_pin(host, (unsigned)port);
	else if (strcmp(argv[1], "uv") == 0)
		cmd_uv(host, (unsigned)port);
	else if (strcmp(argv[1], "bio") == 0)
		cmd_bio(host, (unsigned)port);
	else if (strcmp(argv[1], "credman") == 0)
		cmd_credman(host, (unsigned)port);
	else if (strcmp(argv[1], "largeblob") == 0)
		cmd_largeblob(host, (unsigned)port);
	else if (strcmp(argv[1], "config") == 0)
		cmd_config(host, (unsigned)port);
	else if (strcmp(argv[1], "hmac") == 0)
		cmd_hmac(host, (unsigned)port);
	else if (strcmp(argv[1], "credprot") == 0)
		cmd_credprot(host, (unsigned)port);
	else if (strcmp(argv[1], "u2f") == 0)
		cmd_u2f(host, (unsigned)port);
	else {
		fprintf(stderr, "unknown subcommand '%s'\n", argv[1]);
		return 2;
	}
	return failures ? 1 : 0;
}
