/* SPDX-License-Identifier: MIT */
/* bms/base/frames.c - the one framing loop (bms.h, bms_frames()): the driver's
 * scan() on what is left of the bytes, garbage and bad frames dropped and
 * counted, each complete frame handed to the caller's take().  The poller,
 * the probes' judge, the unit tests' and the fuzz targets' drivers and the
 * decoder bench all frame through it, so the tests run the daemon's loop.
 *
 * A framer bug -- a FRAME, SKIP or BADSUM whose length is 0 or beyond the
 * bytes scanned, or a result scan() may not give -- is counted (bad_scan)
 * and drops one byte: the loop never stalls on it, and a valid frame that
 * follows is still found (dropping the whole buffer could lose it).
 *
 * And the pieces framers share: the start and the tail of every framer that
 * resynchronises on a start byte (bms_scan_start(), bms_scan_skip(),
 * bms_scan_tail()), a start / length / end frame (bms_scan_sle()), a
 * header's length word (bms_scan_lenword()); and a fixed request's opening
 * (bms_req_open()).
 */
#include <string.h>

#include "../bms.h"

/* buf[0..len) (or, with rx, what rx holds; take() may empty it) from the
 * start until scan() needs more bytes or take() says stop; with rx, what
 * was scanned is consumed at the end.  Inlined into both callers: rx is a
 * constant in each. */
static inline __attribute__((always_inline)) bool frames_run(const struct bms_driver *d,
							       const struct bms_poll *poll, struct bms_rx *rx,
							       const uint8_t *buf, size_t len, bms_frame_take *take,
							       void *ctx, struct bms_frame_counts *c)
{
	size_t off = 0;
	bool stop = false;

	if (rx) {
		buf = rx->buf;
		len = rx->len;
	}
	while (!stop && off < len) {
		size_t n = 0, left = len - off;
		enum bms_scan s = d->scan(poll, buf + off, left, &n);
		bool fits = n - 1 < left; /* 1 <= n <= left (n = 0 wraps) */
		if (s == BMS_SCAN_FRAME && fits) {
			if (c)
				c->frames++;
			stop = take(ctx, buf + off, n) == BMS_FRAME_STOP;
			off += n;
			if (rx && rx->len != len) {
				/* take() emptied rx (a step that listens starts
				 * afresh): go on with what it holds now */
				len = rx->len;
				off = 0;
			}
			continue;
		}
		if (s == BMS_SCAN_NEED)
			break;
		if ((s == BMS_SCAN_SKIP || s == BMS_SCAN_BADSUM) && fits) {
			if (c) {
				c->badsum += s == BMS_SCAN_BADSUM;
				c->skipped += n;
			}
			off += n;
			continue;
		}
		if (c) {
			c->bad_scan++; /* a framer bug: one byte, and on */
			c->skipped++;
		}
		off++;
	}
	if (rx && off)
		bms_rx_consume(rx, off);
	return stop;
}

bool bms_frames(const struct bms_driver *d, const struct bms_poll *poll, struct bms_rx *rx, bms_frame_take *take,
		void *ctx, struct bms_frame_counts *c)
{
	return frames_run(d, poll, rx, NULL, 0, take, ctx, c);
}

bool bms_frames_buf(const struct bms_driver *d, const struct bms_poll *poll, const uint8_t *buf, size_t len,
		    bms_frame_take *take, void *ctx, struct bms_frame_counts *c)
{
	return frames_run(d, poll, NULL, buf, len, take, ctx, c);
}

size_t bms_scan_skip(const uint8_t *buf, size_t len, const uint8_t *starts, size_t nstarts)
{
	for (size_t i = 1; i < len; i++)
		for (size_t k = 0; k < nstarts; k++)
			if (buf[i] == starts[k])
				return i;
	return len;
}

bool bms_scan_start(const uint8_t *buf, size_t len, uint8_t sof, enum bms_scan *r, size_t *n)
{
	if (len == 0) {
		*r = BMS_SCAN_NEED;
		return false;
	}
	if (buf[0] == sof)
		return true;
	*n = bms_scan_skip(buf, len, &sof, 1);
	*r = BMS_SCAN_SKIP;
	return false;
}

enum bms_scan bms_scan_tail(bool sum_ok, bool answer, size_t want, size_t *n)
{
	if (!sum_ok) {
		*n = 1;
		return BMS_SCAN_BADSUM;
	}
	*n = want;
	return answer ? BMS_SCAN_FRAME : BMS_SCAN_SKIP;
}

enum bms_scan bms_scan_sle(const struct bms_sle *f, const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return BMS_SCAN_NEED;
	bool start = false;
	for (size_t k = 0; k < f->nstarts; k++)
		start |= buf[0] == f->starts[k];
	if (!start) {
		*n = bms_scan_skip(buf, len, f->starts, f->nstarts);
		return BMS_SCAN_SKIP;
	}
	if (len <= f->at)
		return BMS_SCAN_NEED;
	size_t want = (size_t)buf[f->at] + f->over;
	if (len < want)
		return BMS_SCAN_NEED;
	for (size_t k = 0; k < f->nend; k++)
		if (buf[want - f->nend + k] != f->end[k]) {
			*n = 1;
			return BMS_SCAN_BADSUM;
		}
	*n = want;
	return BMS_SCAN_FRAME;
}

bool bms_scan_lenword(const struct bms_lenword *f, const uint8_t *buf, size_t len, size_t *want, enum bms_scan *r,
		      size_t *n)
{
	*r = BMS_SCAN_NEED;
	if (len < f->hdr)
		return false;
	size_t dlen = bms_be16(buf + f->at);
	if (dlen > f->max || !f->head_ok(buf)) {
		*n = 1;
		*r = BMS_SCAN_SKIP;
		return false;
	}
	*want = dlen + f->over;
	return len >= *want;
}

int bms_req_open(uint8_t *out, size_t cap, size_t len, const uint8_t *head, size_t nhead)
{
	if (cap < len || nhead > len)
		return BMS_E_NOSPACE;
	memset(out, 0, len);
	memcpy(out, head, nhead);
	return BMS_OK;
}
