/*
 * Shared pieces of the vfido-fido2 driver: JSON check output and device helpers (driver.c), used by the
 * subcommands in driver.c and driver_uv.c.
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
/* fido_assert_verify(assert, idx) with the public key of `cred`. */
int verify_with(const fido_assert_t *assert, size_t idx, const fido_cred_t *cred);
bool same_bytes(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen);

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
