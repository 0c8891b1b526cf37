/* tests/unit/pylon_check.h - helpers shared by the unit tests of the
 * Pylontech-style ASCII drivers (test_pylontech.c, test_topbms.c,
 * test_seplos.c): an independent frame encoder (not bms/pylonframe.c, which
 * is under test), and the gateway's read loop (scan + handle) fed in chunks.
 * Include after check.h; define `drv` (const struct bms_driver *) first. */
#ifndef TESTS_PYLON_CHECK_H
#define TESTS_PYLON_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"

/* Chunk sizes the simulated read() returns, cycled. */
static const size_t chunks_odd[] __attribute__((unused)) = { 1, 1, 1, 5, 2, 7, 13, 1, 26, 3, 11, 1, 40, 64, 9 };
static const size_t chunks_one[] __attribute__((unused)) = { 1 };
static const size_t chunks_big[] __attribute__((unused)) = { 1000 };

struct res {
	int ok, more, unexpected, err, last_err;
	int frames;
	size_t skipped;
	int bad_scan; /* scan() returned a length outside 1..len */
};

/* What the gateway does after every read(): scan and handle until NEED. */
static inline void pump(struct bms_poll *poll, struct bms_rx *rx, struct res *r)
{
	for (;;) {
		size_t n = 0;
		enum bms_scan sc = drv->scan(poll, rx->buf, rx->len, &n);

		if (sc == BMS_SCAN_NEED)
			break;
		if (n < 1 || n > rx->len) {
			r->bad_scan++;
			break;
		}
		if (sc == BMS_SCAN_SKIP) {
			r->skipped += n;
			bms_rx_consume(rx, n);
			continue;
		}
		r->frames++;
		int rc = drv->handle(poll, rx->buf, n);
		bms_rx_consume(rx, n);
		if (rc == BMS_OK)
			r->ok++;
		else if (rc == BMS_MORE)
			r->more++;
		else if (rc == BMS_E_UNEXPECTED)
			r->unexpected++;
		else {
			r->err++;
			r->last_err = rc;
		}
	}
}

/* Feed len bytes in chunks of the cycled sizes, pumping after each. */
static inline void feed(struct bms_poll *poll, struct bms_rx *rx, const uint8_t *p, size_t len,
		 const size_t *chunks, size_t nchunks, struct res *r)
{
	size_t off = 0, c = 0;

	while (off < len) {
		size_t n = chunks[c++ % nchunks];
		if (n > len - off)
			n = len - off;
		bms_rx_feed(rx, p + off, n);
		off += n;
		pump(poll, rx, r);
	}
}

static inline struct res feed_str(struct bms_poll *poll, struct bms_rx *rx, const char *s,
			   const size_t *chunks, size_t nchunks)
{
	struct res r = { 0 };
	feed(poll, rx, (const uint8_t *)s, strlen(s), chunks, nchunks, &r);
	return r;
}

#define FEED(poll, rx, s, ch) feed_str(poll, rx, s, ch, sizeof(ch) / sizeof(ch[0]))

/* Pseudo-random split sizes 1..max from a seed. */
static inline struct res feed_random(struct bms_poll *poll, struct bms_rx *rx, const char *s,
			      unsigned seed, size_t max)
{
	size_t ch[64];
	for (size_t i = 0; i < 64; i++) {
		seed = seed * 1103515245u + 12345u;
		ch[i] = 1 + (seed >> 16) % max;
	}
	struct res r = { 0 };
	feed(poll, rx, (const uint8_t *)s, strlen(s), ch, 64, &r);
	return r;
}

/* ---- an independent encoder ---------------------------------------------- */

#define PT_MAX 1100

static inline void pt_hex(char *p, unsigned v, int digits)
{
	static const char h[] = "0123456789ABCDEF";
	for (int i = 0; i < digits; i++)
		p[i] = h[(v >> (4 * (digits - 1 - i))) & 0xF];
}

/* ~ VER ADR 46 CID2 LENGTH INFO CHKSUM CR into out (NUL-terminated). */
static inline void pt_frame(char *out, unsigned ver, unsigned adr, unsigned cid2, const uint8_t *info, size_t n)
{
	size_t k = 0;
	unsigned lenid = (unsigned)(2 * n), ls, sum = 0;

	out[k++] = '~';
	pt_hex(out + k, ver, 2);
	pt_hex(out + k + 2, adr, 2);
	pt_hex(out + k + 4, 0x46, 2);
	pt_hex(out + k + 6, cid2, 2);
	ls = (lenid & 0xF) + ((lenid >> 4) & 0xF) + ((lenid >> 8) & 0xF);
	pt_hex(out + k + 8, (((~ls + 1) & 0xF) << 12) | lenid, 4);
	k += 12;
	for (size_t i = 0; i < n; i++, k += 2)
		pt_hex(out + k, info[i], 2);
	for (size_t i = 1; i < k; i++)
		sum += (unsigned char)out[i];
	pt_hex(out + k, (~sum + 1) & 0xFFFF, 4);
	k += 4;
	out[k++] = '\r';
	out[k] = 0;
}

/* INFO builder. */
struct pt_info {
	size_t n;
	uint8_t b[520];
};

static inline void pt8(struct pt_info *i, unsigned v)
{
	if (i->n < sizeof(i->b))
		i->b[i->n++] = (uint8_t)v;
}

static inline void pt16(struct pt_info *i, unsigned v)
{
	pt8(i, (v >> 8) & 0xFF);
	pt8(i, v & 0xFF);
}

static inline void pt24(struct pt_info *i, unsigned long v)
{
	pt8(i, (unsigned)(v >> 16) & 0xFF);
	pt16(i, (unsigned)(v & 0xFFFF));
}

/* Recompute the CHKSUM of an ASCII frame after a test edited it. */
static inline void pt_fix_chksum(char *f)
{
	size_t n = strlen(f);
	unsigned sum = 0;
	for (size_t i = 1; i + 5 < n; i++)
		sum += (unsigned char)f[i];
	pt_hex(f + n - 5, (~sum + 1) & 0xFFFF, 4);
}

static inline void begin(struct bms_poll *poll, struct bms_rx *rx, uint8_t addr, uint8_t forced, bool inv)
{
	bms_poll_begin(poll, addr, forced, inv);
	bms_rx_clear(rx);
}

/* The request of the current step as a NUL-terminated string ("" when the
 * poll is complete, "E<code>" on error). */
static inline const char *request_str(struct bms_poll *poll, char *buf, size_t cap)
{
	int n = drv->next_request(poll, (uint8_t *)buf, cap - 1);
	if (n < 0) {
		snprintf(buf, cap, "E%d", n);
		return buf;
	}
	buf[n] = 0;
	return buf;
}

/* Hex-decode the INFO of a captured frame string (for building variants). */
static inline size_t pt_info_of(const char *frame, uint8_t *info, size_t cap)
{
	size_t len = strlen(frame), n = 0;
	if (len < 18)
		return 0;
	for (size_t i = 13; i + 5 < len && n < cap; i += 2) {
		unsigned v;
		if (sscanf(frame + i, "%2x", &v) != 1)
			return 0;
		info[n++] = (uint8_t)v;
	}
	return n;
}

#endif
