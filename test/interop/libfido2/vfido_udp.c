/* libfido2 I/O functions for a vfido device over UDP; see vfido_udp.h. */
#define _POSIX_C_SOURCE 200809L

#include "vfido_udp.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct vfido_udp {
	int fd; /* UDP socket connect()ed to the device: send() reaches it, datagrams from others are dropped */
};

/* "udp:HOST:PORT" -> host and port strings (host may not contain ':'). */
static int parse_path(const char *path, char *host, size_t host_len, char *port, size_t port_len)
{
	const char *rest, *colon;
	char *end;
	long n;

	if (path == NULL || strncmp(path, "udp:", 4) != 0)
		return -1;
	rest = path + 4;
	colon = strchr(rest, ':');
	if (colon == NULL || colon == rest || (size_t)(colon - rest) >= host_len || strchr(colon + 1, ':') != NULL)
		return -1;
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || n < 1 || n > 65535)
		return -1;
	memcpy(host, rest, (size_t)(colon - rest));
	host[colon - rest] = '\0';
	snprintf(port, port_len, "%ld", n);
	return 0;
}

static void *udp_open(const char *path)
{
	char host[256], port[8];
	struct addrinfo hints, *res = NULL, *ai;
	struct vfido_udp *h;
	int fd = -1;

	if (parse_path(path, host, sizeof(host), port, sizeof(port)) != 0) {
		fprintf(stderr, "vfido_udp: bad path '%s', expected udp:HOST:PORT\n", path ? path : "(null)");
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return NULL;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		close(fd);
		return NULL;
	}
	h->fd = fd;
	return h;
}

static void udp_close(void *handle)
{
	struct vfido_udp *h = handle;

	if (h == NULL)
		return;
	close(h->fd);
	free(h);
}

static int udp_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct vfido_udp *h = handle;
	unsigned char report[VFIDO_UDP_REPORT_LEN + 1]; /* one spare byte: an oversized datagram is an error */
	struct pollfd p;
	ssize_t n;
	int r;

	if (h == NULL || buf == NULL || len != VFIDO_UDP_REPORT_LEN)
		return -1;
	p.fd = h->fd;
	p.events = POLLIN;
	p.revents = 0;
	do {
		r = poll(&p, 1, ms < 0 ? -1 : ms);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1; /* error or timeout */
	do {
		n = recv(h->fd, report, sizeof(report), 0);
	} while (n < 0 && errno == EINTR);
	if (n != VFIDO_UDP_REPORT_LEN) {
		if (n >= 0)
			fprintf(stderr, "vfido_udp: %zd-byte datagram, expected %d\n", n, VFIDO_UDP_REPORT_LEN);
		return -1;
	}
	memcpy(buf, report, VFIDO_UDP_REPORT_LEN);
	return VFIDO_UDP_REPORT_LEN;
}

static int udp_write(void *handle, const unsigned char *buf, size_t len)
{
	struct vfido_udp *h = handle;
	ssize_t n;

	/* libfido2 prepends the HID report ID (0); the UDP convention carries the bare report. */
	if (h == NULL || buf == NULL || len != VFIDO_UDP_REPORT_LEN + 1 || buf[0] != 0)
		return -1;
	do {
		n = send(h->fd, buf + 1, VFIDO_UDP_REPORT_LEN, 0);
	} while (n < 0 && errno == EINTR);
	if (n != VFIDO_UDP_REPORT_LEN)
		return -1;
	return (int)len;
}

static const fido_dev_io_t io = {
	.open = udp_open,
	.close = udp_close,
	.read = udp_read,
	.write = udp_write,
};

const fido_dev_io_t *vfido_udp_io(void)
{
	return &io;
}

int vfido_udp_dev_open(fido_dev_t *dev, const char *host, unsigned port)
{
	char path[300];
	int r;

	/* Must precede fido_dev_open(): libfido2 then uses 64-byte reports and skips HID descriptor probing. */
	if ((r = fido_dev_set_io_functions(dev, &io)) != FIDO_OK)
		return r;
	if (snprintf(path, sizeof(path), "udp:%s:%u", host, port) >= (int)sizeof(path))
		return FIDO_ERR_INVALID_ARGUMENT;
	return fido_dev_open(dev, path);
}

/* The SoloKeys simulator's power-cycle datagram (transports/udp.ts POWER_CYCLE_DATAGRAM). */
static const unsigned char power_cycle_magic[VFIDO_UDP_REPORT_LEN] = {
	0xac, 0x10, 0x52, 0xca, 0x95, 0xe5, 0x69, 0xde, 0x69, 0xe0, 0x2e, 0xbf, 0xf3, 0x33, 0x48, 0x5f,
	0x13, 0xf9, 0xb2, 0xda, 0x34, 0xc5, 0xa8, 0xa3, 0x40, 0x52, 0x66, 0x97, 0xa9, 0xab, 0x2e, 0x0b,
	0x39, 0x4d, 0x8d, 0x04, 0x97, 0x3c, 0x13, 0x40, 0x05, 0xbe, 0x1a, 0x01, 0x40, 0xbf, 0xf6, 0x04,
	0x5b, 0xb2, 0x6e, 0xb7, 0x7a, 0x73, 0xea, 0xa4, 0x78, 0x13, 0xf6, 0xb4, 0x9a, 0x72, 0x50, 0xdc,
};

int vfido_udp_power_cycle(const char *host, unsigned port, int settle_ms)
{
	char path[300];
	struct vfido_udp *h;
	struct timespec ts;
	ssize_t n;

	if (snprintf(path, sizeof(path), "udp:%s:%u", host, port) >= (int)sizeof(path))
		return -1;
	if ((h = udp_open(path)) == NULL)
		return -1;
	n = send(h->fd, power_cycle_magic, sizeof(power_cycle_magic), 0);
	udp_close(h);
	if (n != (ssize_t)sizeof(power_cycle_magic))
		return -1;
	ts.tv_sec = settle_ms / 1000;
	ts.tv_nsec = (long)(settle_ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 0;
}
