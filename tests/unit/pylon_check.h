/* SPDX-License-Identifier: MIT */
/* tests/unit/pylon_check.h - helpers shared by the unit tests of the
 * Pylontech-style ASCII drivers (test_pylontech.c, test_topbms.c,
 * test_seplos.c): an independent frame encoder (not bms/base/pylonframe.c, which
 * is under test), random splits of a text, the outstanding request.  The
 * gateway's read loop is drive.h's.  Include after check.h; define `drv`
 * (const struct bms_driver *) first. */
#ifndef TESTS_PYLON_CHECK_H
#define TESTS_PYLON_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../bms/bms.h"
#include "drive.h"

/* Chunk sizes the simulated read() returns, cycled. */
static const size_t chunks_odd[] __attribute__((unused)) = { 1, 1, 1, 5, 2, 7, 13, 1, 26, 3, 11, 1, 40, 64, 9 };

/* Pseudo-random split sizes 1..max from a seed. */
static inline struct drive_res feed_random(struct bms_poll *poll, struct bms_rx *rx, const char *s,
					   uint32_t seed, size_t max)
{
	size_t ch[64];
	for (size_t i = 0; i < 64; i++)
		ch[i] = drive_rnd(&seed, 16, 1, max);
	return drive_feed_bytes(poll, rx, (const uint8_t *)s, strlen(s), ch, 64);
}

/* ---- an independent encoder ---------------------------------------------- */

#define PT_MAX 4200

static inline void pt_hex(char *p, unsigned v, int digits)
{
	static const char h[] = "0123456789ABCDEF";
	for (int i = 0; i < digits; i++)
		p[i] = h[(v >> (4 * (digits - 1 - i))) & 0xF];
}

/* SOI VER ADR CID1 CID2 LENGTH INFO CHKSUM CR into out (NUL-terminated). */
static inline void pt_frame_ex(char *out, char soi, unsigned ver, unsigned adr, unsigned cid1, unsigned cid2,
			       const uint8_t *info, size_t n)
{
	size_t k = 0;
	unsigned lenid = (unsigned)(2 * n), ls, sum = 0;

	out[k++] = soi;
	pt_hex(out + k, ver, 2);
	pt_hex(out + k + 2, adr, 2);
	pt_hex(out + k + 4, cid1, 2);
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

/* ~ VER ADR 46 CID2 LENGTH INFO CHKSUM CR into out (NUL-terminated). */
static inline void pt_frame(char *out, unsigned ver, unsigned adr, unsigned cid2, const uint8_t *info, size_t n)
{
	pt_frame_ex(out, '~', ver, adr, 0x46, cid2, info, n);
}

/* INFO builder. */
struct pt_info {
	size_t n;
	uint8_t b[2100];
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

/* CID2 of the outstanding request, 0 when the poll is complete, -1 on error. */
static inline int cur_cmd(struct bms_poll *poll)
{
	char buf[64];
	const char *r = request_str(poll, buf, sizeof(buf));
	unsigned v;
	if (r[0] != '~')
		return r[0] ? -1 : 0;
	sscanf(r + 7, "%2x", &v);
	return (int)v;
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
