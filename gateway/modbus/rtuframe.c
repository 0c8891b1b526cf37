/* SPDX-License-Identifier: MIT */
/* gateway/modbus/rtuframe.c - Modbus RTU framing for a server on a serial
 * line: a receiver delimiting frames by silence, checking the CRC, piecing
 * together frames that the timestamps cut; the answer's ADU.  See
 * rtuframe.h for the source and the departures from it. */
#include "rtuframe.h"

#include <string.h>

#include "../../bms/bms.h"

/* Rounding of the times: a silence of exactly t3.5 ends a frame. */
#define RTU_EPS 1e-9

double rtu_char_time(int baud)
{
	return baud > 0 ? 11.0 / baud : 0;
}

double rtu_t35(int baud)
{
	return baud > 19200 ? 0.00175 : 3.5 * rtu_char_time(baud);
}

double rtu_t15(int baud)
{
	return baud > 19200 ? 0.00075 : 1.5 * rtu_char_time(baud);
}

int rtu_rx_init(struct rtu_rx *rx, int baud, double rejoin)
{
	memset(rx, 0, sizeof(*rx));
	if (baud <= 0)
		return -1;
	rx->tchar = rtu_char_time(baud);
	rx->t35 = rtu_t35(baud);
	rx->rejoin = rejoin > 0 ? rejoin : 0;
	return 0;
}

static bool rtu_valid(const uint8_t *f, size_t n)
{
	return n >= RTU_ADU_MIN && bms_crc16_modbus_ok(f, n);
}

/* A piece that will never be a frame. */
static void rtu_count_bad(struct rtu_rx *rx, size_t n)
{
	if (n < RTU_ADU_MIN)
		rx->st.short_frames++;
	else
		rx->st.bad_crc++;
}

/* Drop the first k held fragments (all: k = nfrag), counting them. */
static void rtu_drop_held(struct rtu_rx *rx, unsigned k)
{
	if (k > rx->nfrag)
		k = rx->nfrag;
	for (unsigned i = 0; i < k; i++) {
		size_t end = i + 1 < rx->nfrag ? rx->frag_at[i + 1] : rx->hlen;
		rtu_count_bad(rx, end - rx->frag_at[i]);
	}
	size_t cut = k < rx->nfrag ? rx->frag_at[k] : rx->hlen;
	memmove(rx->held, rx->held + cut, rx->hlen - cut);
	rx->hlen -= cut;
	for (unsigned i = k; i < rx->nfrag; i++)
		rx->frag_at[i - k] = (uint16_t)(rx->frag_at[i] - cut);
	rx->nfrag -= k;
}

static void rtu_deliver(struct rtu_rx *rx, const uint8_t *f, size_t n)
{
	memcpy(rx->frame, f, n);
	rx->flen = n;
	rx->ready = true;
	rx->st.frames++;
}

/* The candidate failed alone: is it the end of a frame whose start was
 * held?  Tries the shortest join first: the last fragment + candidate,
 * then the last two ... */
static bool rtu_rejoin(struct rtu_rx *rx)
{
	uint8_t join[RTU_ADU_MAX];
	for (unsigned i = rx->nfrag; i-- > 0;) {
		size_t hn = rx->hlen - rx->frag_at[i];
		if (hn + rx->len > RTU_ADU_MAX)
			break;
		memcpy(join, rx->held + rx->frag_at[i], hn);
		memcpy(join + hn, rx->buf, rx->len);
		if (rtu_valid(join, hn + rx->len)) {
			rtu_drop_held(rx, i); /* what came before it was garbage */
			rx->hlen = rx->nfrag = 0;
			rtu_deliver(rx, join, hn + rx->len);
			rx->st.rejoined++;
			return true;
		}
	}
	return false;
}

/* Keep the failed candidate as the newest fragment, making room. */
static void rtu_hold(struct rtu_rx *rx)
{
	while (rx->nfrag && (rx->nfrag == RTU_FRAGS || rx->hlen + rx->len > RTU_ADU_MAX))
		rtu_drop_held(rx, 1);
	rx->frag_at[rx->nfrag++] = (uint16_t)rx->hlen;
	memcpy(rx->held + rx->hlen, rx->buf, rx->len);
	rx->hlen += rx->len;
	rx->held_last = rx->last;
}

/* A silence of t3.5 ended the candidate.  False if a good frame still
 * waits to be taken (then nothing changed). */
static bool rtu_close(struct rtu_rx *rx)
{
	if (rx->ready)
		return false;
	if (rx->overrun) {
		rx->overrun = false;
		rx->len = 0;
		rtu_drop_held(rx, rx->nfrag);
		return true;
	}
	if (rx->len == 0)
		return true;
	if (rx->nfrag && rx->first - rx->held_last > rx->rejoin + RTU_EPS)
		rtu_drop_held(rx, rx->nfrag); /* too old to belong to it */
	if (rtu_valid(rx->buf, rx->len)) {
		rtu_drop_held(rx, rx->nfrag);
		rtu_deliver(rx, rx->buf, rx->len);
	} else if (!rtu_rejoin(rx)) {
		if (rx->rejoin > 0)
			rtu_hold(rx);
		else
			rtu_count_bad(rx, rx->len);
	}
	rx->len = 0;
	return true;
}

size_t rtu_rx_feed(struct rtu_rx *rx, const uint8_t *p, size_t n, double t)
{
	if (n == 0)
		return 0;
	/* the silence before these bytes: since the last byte, less the time
	 * these n took on the wire */
	bool pending = rx->len || rx->overrun;
	if (pending && t - n * rx->tchar - rx->last >= rx->t35 - RTU_EPS) {
		if (!rtu_close(rx))
			return 0;
		pending = false;
	}
	if (!pending)
		rx->first = t;
	rx->last = t;
	if (rx->overrun)
		return n;
	if (rx->len + n > RTU_ADU_MAX) {
		rx->overrun = true;
		rx->st.overruns++;
		rx->len = 0;
		return n;
	}
	memcpy(rx->buf + rx->len, p, n);
	rx->len += n;
	return n;
}

void rtu_rx_poll(struct rtu_rx *rx, double now)
{
	if ((rx->len || rx->overrun) && now - rx->last >= rx->t35 - RTU_EPS)
		rtu_close(rx);
	if (!rx->len && !rx->overrun && rx->nfrag && now - rx->held_last >= rx->rejoin - RTU_EPS)
		rtu_drop_held(rx, rx->nfrag);
}

bool rtu_rx_take(struct rtu_rx *rx, struct rtu_frame *f)
{
	if (!rx->ready)
		return false;
	f->addr = rx->frame[0];
	f->pdu_len = rx->flen - 3;
	memcpy(f->pdu, rx->frame + 1, f->pdu_len);
	rx->ready = false;
	return true;
}

bool rtu_rx_deadline(const struct rtu_rx *rx, double *when)
{
	if (rx->len || rx->overrun) {
		*when = rx->last + rx->t35;
		return true;
	}
	if (rx->nfrag) {
		*when = rx->held_last + rx->rejoin;
		return true;
	}
	return false;
}

int rtu_adu(uint8_t addr, const uint8_t *pdu, size_t n, uint8_t *out, size_t cap)
{
	if (n == 0 || n > RTU_PDU_MAX || cap < n + 3)
		return -1;
	out[0] = addr;
	memcpy(out + 1, pdu, n);
	uint16_t crc = bms_crc16_modbus(out, n + 1);
	out[n + 1] = (uint8_t)(crc & 0xFF);
	out[n + 2] = (uint8_t)(crc >> 8);
	return (int)(n + 3);
}
