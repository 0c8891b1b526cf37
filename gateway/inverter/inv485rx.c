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
	rx->echo_len = rx->echo_at = 0;
}

void inv_485_rx_sent(struct inv_485_rx *rx, const uint8_t *p, size_t n)
{
	rx->echo_len = n < sizeof(rx->echo) ? n : sizeof(rx->echo);
	rx->echo_at = 0;
	memcpy(rx->echo, p, rx->echo_len);
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

/* p[0..n) into the buffer and the framer. */
static void absorb(struct inv_485_rx *rx, inv_485_scan_fn *scan, const uint8_t *p, size_t n, inv_485_request_fn *request,
		 void *arg)
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

/* How many bytes of p[0..n) are the expected echo (all of them while it
 * matches); at a byte that differs, the bytes matched before are given
 * back in *back[0..*nback) and nothing is expected any more. */
static size_t echo_match(struct inv_485_rx *rx, const uint8_t *p, size_t n, uint8_t *back, size_t *nback)
{
	size_t i = 0;
	*nback = 0;
	while (i < n && rx->echo_at < rx->echo_len && p[i] == rx->echo[rx->echo_at]) {
		i++;
		rx->echo_at++;
	}
	if (rx->echo_at == rx->echo_len) {
		rx->echoes++; /* heard back whole */
		rx->echo_len = rx->echo_at = 0;
	} else if (i < n) {
		*nback = rx->echo_at; /* not the echo: what matched was the wire's */
		memcpy(back, rx->echo, *nback);
		rx->echo_len = rx->echo_at = 0;
	}
	return i;
}

void inv_485_rx_feed(struct inv_485_rx *rx, inv_485_scan_fn *scan, const uint8_t *p, size_t n,
		     inv_485_request_fn *request, void *arg)
{
	uint8_t back[INV_485_ANSWER_MAX];
	size_t nback = 0, k = 0;
	/* the bytes of a read after an answer went out may be its echo; those
	 * that came with the request (in its read) cannot be */
	if (rx->echo_len)
		k = echo_match(rx, p, n, back, &nback);
	absorb(rx, scan, back, nback, request, arg);
	absorb(rx, scan, p + k, n - k, request, arg);
}
