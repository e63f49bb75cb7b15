/*
 * libfido2 I/O functions for a vfido device over UDP (the SoloKeys simulator convention: one raw 64-byte
 * CTAPHID report per datagram, no report-ID byte; the device answers to the sender's address).
 *
 * libfido2 (1.12) frames CTAPHID itself. With fido_dev_set_io_functions() it calls:
 *   open(path)            the path given to fido_dev_open(), here "udp:HOST:PORT"
 *   write(h, buf, 65)     a report-ID byte (0x00) then the 64-byte report; must return 65
 *   read(h, buf, 64, ms)  must return exactly 64 bytes, or -1 (error or no report within ms; ms < 0: wait)
 *   close(h)
 */
#ifndef VFIDO_UDP_H
#define VFIDO_UDP_H

#include <fido.h>

#define VFIDO_UDP_REPORT_LEN 64

/* The four I/O callbacks. */
const fido_dev_io_t *vfido_udp_io(void);

/* fido_dev_set_io_functions(dev, vfido_udp_io()) then fido_dev_open(dev, "udp:HOST:PORT").
 * Returns a FIDO_ERR_* / FIDO_OK code. */
int vfido_udp_dev_open(fido_dev_t *dev, const char *host, unsigned port);

/* Send the simulator power-cycle datagram (a 64-byte magic report; no reply) to HOST:PORT, then wait
 * settle_ms for the device to act on it. Returns 0, or -1 if it could not be sent. */
int vfido_udp_power_cycle(const char *host, unsigned port, int settle_ms);

#endif /* VFIDO_UDP_H */
