/*
 * Shared pieces of the vfido-fido2 driver: JSON check output and device helpers (driver.c), used by the
 * subcommands in driver.c, driver_uv.c and driver_ext.c.
 */
#ifndef VFIDO_DRIVER_H
#define VFIDO_DRIVER_H

#include <fido.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TIMEOUT_MS 10000
#define FLAG_UP 0x01
#define FLAG_UV 0x04
#define FLAG_AT 0x40

/* One check: printed as {"check": name, "ok": error == "", "detail": {members..., "error"?}}. */
struct check {
	char name[128];
	FILE *f; /* detail members, comma separated */
	char *buf;
	size_t len;
	int members;
	char error[512]; /* first failure, empty if none */
};

/* Write s as a JSON string (quotes, backslashes and control characters escaped). */
void put_str(FILE *f, const char *s);
void check_begin(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a failure (the first one is reported). Returns false so callers can `return fail(...)`. */
bool fail(struct check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool fail_fido(struct check *c, const char *what, int r);
/* Start a detail member: `"k":`; the caller writes the value to c->f. */
void key(struct check *c, const char *k);
void j_str(struct check *c, const char *k, const char *v);
void j_int(struct check *c, const char *k, long long v);
void j_bool(struct check *c, const char *k, bool v);
void j_hex(struct check *c, const char *k, const unsigned char *p, size_t n);
void j_flags(struct check *c, const char *k, unsigned flags);
/* Print the check's JSON line; a failed check makes the driver exit 1. */
void check_end(struct check *c);

void random_fill(unsigned char *p, size_t n);
/* An RP ID no other check uses. */
void unique_rp_id(char *out, size_t len, const char *prefix);
/* fido_dev_new + timeout + vfido_udp_dev_open; NULL (and a failure in c) on error. */
fido_dev_t *open_device(struct check *c, const char *host, unsigned port);
void close_device(fido_dev_t **dev);
/* The "open" check: open_device, then `extra` (may be NULL) on the open device. NULL if the open failed. */
fido_dev_t *open_check(const char *host, unsigned port, void (*extra)(struct check *c, fido_dev_t *dev));

/* A makeCredential request; zero fields are left out (type 0 = ES256, user_id NULL = 16 random bytes,
 * rp_name / name / display_name NULL = "vfido interop" / "alice" / "Alice"). */
struct mc {
	int type;
	bool rk;
	bool uv;       /* FIDO_OPT_TRUE uv */
	const char *pin;
	int ext;       /* FIDO_EXT_* mask for fido_cred_set_extensions */
	int prot;      /* 0 = none */
	size_t minpin; /* 0 = none */
	const char *rp_name;
	const char *name;
	const char *display_name;
	const unsigned char *user_id;
	size_t user_id_len;
	const fido_cred_t *exclude;
};
/* makeCredential for rp_id as described by `o`; the new credential in *out (caller frees). Returns FIDO_ERR_*. */
int make_cred_opts(fido_dev_t *dev, const char *rp_id, const struct mc *o, fido_cred_t **out);

/* A getAssertion request: allow list (up to 4, NULL-terminated; none = discoverable), PIN, uv, extensions. */
struct ga {
	const fido_cred_t *allow[4];
	const char *pin;
	bool uv; /* FIDO_OPT_TRUE uv */
	int ext;
	const unsigned char *salt;
	size_t salt_len;
};
/* getAssertion for rp_id as described by `o`; all assertions in *out (caller frees). Returns FIDO_ERR_*. */
int get_assert_opts(fido_dev_t *dev, const char *rp_id, const struct ga *o, fido_assert_t **out);

/* fido_assert_verify(assert, idx) with the public key of `cred`. */
int verify_with(const fido_assert_t *assert, size_t idx, const fido_cred_t *cred);
bool same_bytes(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen);
/* Assertion i names credential c. */
bool same_cred(const fido_assert_t *a, size_t i, const fido_cred_t *c);
/* Write `"k": [v0, v1, ...]` (libfido2 result codes or small counters). */
void j_codes(struct check *c, const char *k, const int *v, size_t n);

/* Subcommands in driver_uv.c. */
void cmd_pin(const char *host, unsigned port);
void cmd_uv(const char *host, unsigned port);
void cmd_bio(const char *host, unsigned port);

/* Subcommands in driver_ext.c (issue 4: extensions, credMgmt, largeBlobs, config, U2F). */
void cmd_credman(const char *host, unsigned port);
void cmd_largeblob(const char *host, unsigned port);
void cmd_config(const char *host, unsigned port);
void cmd_hmac(const char *host, unsigned port);
void cmd_credprot(const char *host, unsigned port);
void cmd_u2f(const char *host, unsigned port);

#endif /* VFIDO_DRIVER_H */
