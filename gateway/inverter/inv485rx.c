/* SPDX-License-Identifier: MIT */
/* gateway/inverter/inv485rx.c - the RS485 request assembly: read()'s
 * chunks into a bounded buffer, the codec's framer on it (inv485rx.h). */
#include "inv485rx.h"

#include <string.h>

void inv_485_rx_init(struct inv_485_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

void inv_485_rx_reset(struct inv_485_rx *rx)
{
	rx->len = 0;
}

/* Every verdict the buffer holds, until the framer needs more. */
static void drain(struct inv_485_rx *rx, inv_485_scan_fn *scan, inv_485_request_fn *request, void *arg)
{
	while (rx->len) {
		size_t n = 0;
		enum inv_scan v = scan(rx->buf, rx->len, &n);
		if (v == INV_SCAN_MORE && rx->len < sizeof(rx->buf))
			return;
		if (v == INV_SCAN_MORE || (unsigned)v >= INV_SCAN_VERDICTS || n == 0 || n > rx->len) {
			/* undecided in a full buffer (or a verdict out of range): all of it goes */
			v = INV_SCAN_OVERLONG;
			n = rx->len;
		}
		rx->count[v] += v == INV_SCAN_NOISE ? (uint32_t)n : 1u;
		if (v == INV_SCAN_REQUEST)
			request(arg, rx->buf, n);
		rx->len -= n;
		memmove(rx->buf, rx->buf + n, rx->len);
	}
}

void inv_485_rx_feed(struct inv_485_rx *rx, inv_485_scan_fn *scan, const uint8_t *p, size_t n,
		     inv_485_request_fn *request, void *arg)
{
	while (n) {
		/* drain() leaves room: the buffer is never full here */
		size_t take = sizeof(rx->buf) - rx->len;
		if (take > n)
			take = n;
		memcpy(rx->buf + rx->len, p, take);
		rx->len += take;
		p += take;
		n -= take;
		drain(rx, scan, request, arg);
	}
}
