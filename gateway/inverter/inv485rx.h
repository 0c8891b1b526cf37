/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inv485rx.h - the requests an inverter sends on RS485,
 * assembled from whatever read() returned: a bounded buffer that the
 * output's codec's framer (codec.h, `scan`) reads.  A frame cut by a read
 * is kept for the next one, bytes outside frames are skipped, every
 * verdict is counted; what the framer cannot decide within the buffer is
 * dropped as overlong.  The same requests come out, with the same
 * counters, whatever the reads' sizes.
 *
 * The output's own answer heard back (an RS485 adapter that echoes what it
 * sends) is dropped whole when it comes next: told of each answer sent, the
 * assembly matches the bytes of the reads that follow against it (those
 * that came in the request's read were there before it); at the first
 * byte that differs the bytes matched go to the framer after all.  Without it
 * a dialect whose answer is a request too (Modbus FC 06 echoes the write)
 * would answer itself without end.
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
	uint8_t echo[INV_485_ANSWER_MAX];  /* the last answer sent, expected back */
	size_t echo_len;                   /* its length, 0 = none expected */
	size_t echo_at;                    /* bytes of it heard back so far */
	uint32_t echoes;                   /* answers heard back whole and dropped */
};

typedef enum inv_scan inv_485_scan_fn(const uint8_t *buf, size_t len, size_t *n);
/* A request req[0..n), good until the call returns. */
typedef void inv_485_request_fn(void *arg, const uint8_t *req, size_t n);

/* Nothing kept, nothing counted. */
void inv_485_rx_init(struct inv_485_rx *rx);
/* The port reopened: a frame in progress is dropped (the counters stay). */
void inv_485_rx_reset(struct inv_485_rx *rx);
/* An answer p[0..n) (at most INV_485_ANSWER_MAX bytes) went out: its
 * echo, should it come next, is dropped. */
void inv_485_rx_sent(struct inv_485_rx *rx, const uint8_t *p, size_t n);
/* Take p[0..n): request(arg, ...) for every request completed, in order. */
void inv_485_rx_feed(struct inv_485_rx *rx, inv_485_scan_fn *scan, const uint8_t *p, size_t n,
		     inv_485_request_fn *request, void *arg);

#endif
