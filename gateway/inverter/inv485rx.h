/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inv485rx.h - the requests an inverter sends on RS485,
 * assembled from whatever read() returned: a bounded buffer that the
 * output's codec's framer (codec.h, `scan`) reads.  A frame cut by a read
 * is kept for the next one, bytes outside frames are skipped, every
 * verdict is counted; what the framer cannot decide within the buffer is
 * dropped as overlong.  The same requests come out, with the same
 * counters, whatever the reads' sizes.
 *
 * Pure: no I/O, no globals, no allocation. */
#ifndef GATEWAY_INVERTER_INV485RX_H
#define GATEWAY_INVERTER_INV485RX_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

struct inv_485_rx {
	uint8_t buf[INV_485_RX_MAX];
	size_t len;                        /* bytes kept: the start of a frame */
	uint32_t count[INV_SCAN_VERDICTS]; /* frames by verdict, NOISE in bytes; they only grow */
};

typedef enum inv_scan inv_485_scan_fn(const uint8_t *buf, size_t len, size_t *n);
/* A request req[0..n), good until the call returns. */
typedef void inv_485_request_fn(void *arg, const uint8_t *req, size_t n);

/* Nothing kept, nothing counted. */
void inv_485_rx_init(struct inv_485_rx *rx);
/* The port reopened: a frame in progress is dropped (the counters stay). */
void inv_485_rx_reset(struct inv_485_rx *rx);
/* Take p[0..n): request(arg, ...) for every request completed, in order. */
void inv_485_rx_feed(struct inv_485_rx *rx, inv_485_scan_fn *scan, const uint8_t *p, size_t n,
		     inv_485_request_fn *request, void *arg);

#endif
