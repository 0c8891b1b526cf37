/* SPDX-License-Identifier: MIT */
/* bms/base/pylonframe.c - Pylontech-style ("paceic") ASCII framing shared by the
 * pylontech, topbms, seplos, pace, eg4-lp4 and daren drivers
 * (bms/PROTOCOLS.md §8).  See pylonframe.h. */
#include "../pylonframe.h"

#include <stdio.h>
#include <string.h>


uint16_t bms_pylonframe_length(uint16_t lenid)
{
	unsigned sum;

	lenid &= 0x0FFF;
	sum = (lenid & 0xFu) + ((lenid >> 4) & 0xFu) + ((lenid >> 8) & 0xFu);
	return (uint16_t)((((16u - (sum & 0xFu)) & 0xFu) << 12) | lenid);
}

uint16_t bms_pylonframe_chksum(const uint8_t *p, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += p[i];
	return (uint16_t)(~sum + 1u);
}


bool bms_pylonframe_is_rtn(uint8_t cid2)
{
	/* 00 ok, 01 VER, 02 CHKSUM, 03 LCHKSUM, 04 CID2, 05 format, 06 data,
	 * 07 no data (Seplos), 90 ADR, 91 internal comm (Pylontech, TopBMS),
	 * A0 transfer failure (TopBMS), E1..E4 (Seplos). */
	return cid2 <= 0x07 || cid2 == 0x90 || cid2 == 0x91 || cid2 == 0xA0 ||
	       (cid2 >= 0xE1 && cid2 <= 0xE4);
}

/* n hex characters (n <= 4) to a number; -1 if one is not a hex digit. */
static long bms_pylonframe_hexn(const uint8_t *p, size_t n)
{
	uint32_t v;
	return bms_hexn(p, n, &v) ? (long)v : -1;
}

int bms_pylonframe_build(uint8_t *out, size_t cap, uint8_t ver, uint8_t adr, uint8_t cid1,
			 uint8_t cid2, const uint8_t *info, size_t ninfo)
{
	return bms_pylonframe_build_soi(out, cap, BMS_PYLONFRAME_SOI, ver, adr, cid1, cid2, info, ninfo);
}

int bms_pylonframe_build_soi(uint8_t *out, size_t cap, uint8_t soi, uint8_t ver, uint8_t adr, uint8_t cid1,
			     uint8_t cid2, const uint8_t *info, size_t ninfo)
{
	size_t lenid = 2 * ninfo, total = lenid + BMS_PYLONFRAME_OVERHEAD;
	uint8_t *p = out;

	if (lenid > 0x0FFF)
		return BMS_E_RANGE;
	if (cap < total)
		return BMS_E_NOSPACE;
	*p++ = soi;
	bms_put_hex(p, ver, 2);
	bms_put_hex(p + 2, adr, 2);
	bms_put_hex(p + 4, cid1, 2);
	bms_put_hex(p + 6, cid2, 2);
	bms_put_hex(p + 8, bms_pylonframe_length((uint16_t)lenid), 4);
	p += 12;
	for (size_t i = 0; i < ninfo; i++, p += 2)
		bms_put_hex(p, info[i], 2);
	bms_put_hex(p, bms_pylonframe_chksum(out + 1, (size_t)(p - out - 1)), 4);
	p += 4;
	*p++ = BMS_PYLONFRAME_EOI;
	return (int)(p - out);
}

enum bms_scan bms_pylonframe_scan(const uint8_t *buf, size_t len, size_t *n)
{
	return bms_pylonframe_scan_sois(buf, len, n, "~");
}

/* Is c one of the start characters sois? */
static bool bms_pylonframe_is_soi(uint8_t c, const char *sois)
{
	return c != 0 && strchr(sois, c) != NULL;
}

enum bms_scan bms_pylonframe_scan_sois(const uint8_t *buf, size_t len, size_t *n, const char *sois)
{
	size_t i, total, lenid;
	long length, chk, cid2;

	if (len == 0)
		return BMS_SCAN_NEED;
	if (!bms_pylonframe_is_soi(buf[0], sois)) {
		for (i = 1; i < len && !bms_pylonframe_is_soi(buf[i], sois); i++)
			;
		*n = i;
		return BMS_SCAN_SKIP;
	}
	/* Every character of the header must be hex; a stray one (a CR, or the
	 * '~' of the next frame after a truncated one) ends this frame there:
	 * buf[1..i) are hex digits, none of them can start a frame. */
	for (i = 1; i < len && i < BMS_PYLONFRAME_HEAD; i++) {
		if (bms_hexval(buf[i]) < 0) {
			*n = i;
			return BMS_SCAN_SKIP;
		}
	}
	if (len < BMS_PYLONFRAME_HEAD)
		return BMS_SCAN_NEED;
	length = bms_pylonframe_hexn(buf + 9, 4);
	lenid = (size_t)length & 0x0FFF;
	total = lenid + BMS_PYLONFRAME_OVERHEAD;
	/* LCHKSUM, whole bytes, and a frame that can fit in the rx buffer */
	if (bms_pylonframe_length((uint16_t)lenid) != length || (lenid & 1) || total > BMS_RX_CAP) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	for (i = BMS_PYLONFRAME_HEAD; i < len && i < total - 1; i++) {
		if (bms_hexval(buf[i]) < 0) {
			*n = i;
			return BMS_SCAN_SKIP;
		}
	}
	if (len < total)
		return BMS_SCAN_NEED;
	if (buf[total - 1] != BMS_PYLONFRAME_EOI) {
		*n = total - 1;
		return BMS_SCAN_SKIP;
	}
	chk = bms_pylonframe_hexn(buf + total - 5, 4);
	cid2 = bms_pylonframe_hexn(buf + 7, 2);
	*n = total;
	if (chk != bms_pylonframe_chksum(buf + 1, total - 6))
		return BMS_SCAN_BADSUM;
	/* a request (our echo, or another master's) is no answer */
	if (!bms_pylonframe_is_rtn((uint8_t)cid2))
		return BMS_SCAN_SKIP;
	return BMS_SCAN_FRAME;
}

int bms_pylonframe_parse(const uint8_t *frame, size_t len, struct bms_pylonframe *f,
			 uint8_t *info, size_t cap)
{
	long v[5];
	size_t lenid;

	memset(f, 0, sizeof(*f));
	if (len < BMS_PYLONFRAME_OVERHEAD)
		return BMS_E_SHORT;
	if ((frame[0] != BMS_PYLONFRAME_SOI && frame[0] != BMS_PYLONFRAME_SOI_KS) ||
	    frame[len - 1] != BMS_PYLONFRAME_EOI)
		return BMS_E_HEADER;
	for (int k = 0; k < 4; k++)
		v[k] = bms_pylonframe_hexn(frame + 1 + 2 * k, 2);
	v[4] = bms_pylonframe_hexn(frame + 9, 4);
	for (int k = 0; k < 5; k++)
		if (v[k] < 0)
			return BMS_E_HEADER;
	lenid = (size_t)v[4] & 0x0FFF;
	if (bms_pylonframe_length((uint16_t)lenid) != v[4] || (lenid & 1))
		return BMS_E_HEADER;
	if (len != lenid + BMS_PYLONFRAME_OVERHEAD)
		return BMS_E_SHORT;
	long chk = bms_pylonframe_hexn(frame + len - 5, 4);
	if (chk < 0)
		return BMS_E_HEADER;
	if (chk != bms_pylonframe_chksum(frame + 1, len - 6))
		return BMS_E_CHECKSUM;
	if (lenid / 2 > cap)
		return BMS_E_NOSPACE;
	for (size_t i = 0; i < lenid / 2; i++) {
		long b = bms_pylonframe_hexn(frame + BMS_PYLONFRAME_HEAD + 2 * i, 2);
		if (b < 0)
			return BMS_E_HEADER;
		info[i] = (uint8_t)b;
	}
	f->ver = (uint8_t)v[0];
	f->adr = (uint8_t)v[1];
	f->cid1 = (uint8_t)v[2];
	f->cid2 = (uint8_t)v[3];
	f->lenid = (uint16_t)lenid;
	f->ninfo = lenid / 2;
	return BMS_OK;
}

int bms_pylonframe_check_reply(const struct bms_pylonframe *f, uint8_t adr)
{
	return bms_pylonframe_check_from(f, BMS_PYLONFRAME_CID1_BATTERY, adr, false);
}

int bms_pylonframe_check_from(const struct bms_pylonframe *f, uint8_t cid1, uint8_t adr, bool any_adr)
{
	if (!bms_pylonframe_is_rtn(f->cid2) || (f->adr != adr && !any_adr) || f->cid1 != cid1)
		return BMS_E_UNEXPECTED;
	if (f->cid2 != 0)
		return BMS_E_REFUSED;
	return BMS_OK;
}

int bms_pylonframe_take(const struct bms_poll *poll, int nsteps, const uint8_t *frame, size_t len,
			struct bms_pylonframe *f, uint8_t *info, size_t cap)
{
	return bms_pylonframe_take_from(poll, nsteps, BMS_PYLONFRAME_CID1_BATTERY, frame, len, f, info, cap);
}

int bms_pylonframe_take_from(const struct bms_poll *poll, int nsteps, uint8_t cid1, const uint8_t *frame,
			     size_t len, struct bms_pylonframe *f, uint8_t *info, size_t cap)
{
	int rc = bms_pylonframe_parse(frame, len, f, info, cap);
	if (rc < 0)
		return rc;
	if (poll->step < 0 || poll->step >= nsteps)
		return BMS_E_UNEXPECTED;
	return bms_pylonframe_check_from(f, cid1, poll->address, poll->address_any);
}

void bms_pylonframe_rd_init(struct bms_pylonframe_rd *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = false;
}

bool bms_pylonframe_skip(struct bms_pylonframe_rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return false;
	}
	r->off += n;
	return true;
}

bool bms_pylonframe_text(struct bms_pylonframe_rd *r, size_t n, char *dst, size_t cap)
{
	if (!bms_pylonframe_skip(r, n))
		return false;
	bms_ident_text(dst, cap, r->p + r->off - n, n);
	return true;
}

size_t bms_pylonframe_left(const struct bms_pylonframe_rd *r)
{
	return r->bad ? 0 : r->len - r->off;
}

uint8_t bms_pylonframe_u8(struct bms_pylonframe_rd *r)
{
	if (!bms_pylonframe_skip(r, 1))
		return 0;
	return r->p[r->off - 1];
}

uint16_t bms_pylonframe_u16(struct bms_pylonframe_rd *r)
{
	if (!bms_pylonframe_skip(r, 2))
		return 0;
	return bms_be16(r->p + r->off - 2);
}

int bms_pylonframe_cells(struct bms_pylonframe_rd *r, uint16_t *mv)
{
	unsigned m = bms_pylonframe_u8(r);
	if (r->bad)
		return BMS_E_SHORT;
	if (m > BMS_LV_MAX_CELLS)
		return BMS_E_RANGE;
	for (unsigned i = 0; i < m; i++)
		mv[i] = bms_pylonframe_u16(r);
	return (int)m;
}

unsigned bms_pylonframe_words(struct bms_pylonframe_rd *r, uint16_t *w, unsigned max)
{
	unsigned n = bms_pylonframe_u8(r);
	for (unsigned i = 0; i < n; i++) {
		uint16_t v = bms_pylonframe_u16(r);
		if (i < max)
			w[i] = v;
	}
	return n;
}

int bms_pylonframe_analog(struct bms_pylonframe_rd *r, struct bms_pylonframe_analog *a)
{
	int rc = bms_pylonframe_cells(r, a->cell_mv);
	if (rc < 0)
		return rc;
	a->ncells = (unsigned)rc;
	a->ntemps = bms_pylonframe_words(r, a->temp, BMS_MAX_TEMPS);
	a->current = bms_pylonframe_s16(r);
	a->voltage = bms_pylonframe_u16(r);
	a->remain = bms_pylonframe_u16(r);
	a->p = bms_pylonframe_u8(r);
	return r->bad ? BMS_E_SHORT : BMS_OK;
}

int16_t bms_pylonframe_s16(struct bms_pylonframe_rd *r)
{
	uint16_t v = bms_pylonframe_u16(r);
	return (int16_t)(v >= 0x8000u ? (int)v - 0x10000 : (int)v);
}

uint32_t bms_pylonframe_u24(struct bms_pylonframe_rd *r)
{
	if (!bms_pylonframe_skip(r, 3))
		return 0;
	const uint8_t *p = r->p + r->off - 3;
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

int bms_pylonframe_pack_index(uint8_t b, uint8_t cmd, unsigned want_if_count)
{
	if (b == cmd || b == 1)
		return 0;
	if (b == 0)
		return BMS_E_RANGE;
	return want_if_count < b ? (int)want_if_count : BMS_E_UNEXPECTED;
}

uint32_t bms_pylonframe_state_alarm(uint8_t state, uint32_t low, uint32_t high, uint32_t other)
{
	switch (state) {
	case 0x00: return 0;
	case 0x01: return low;
	case 0x02: return high;
	default: return other;
	}
}

/* ---- a paceic protocol as a table of commands ---------------------------- */

/* Is step i a settings command? */
static bool bms_paceic_settings(const struct bms_paceic *pc, int i)
{
	return i >= 0 && i < 32 && (pc->settings_steps >> i & 1u);
}

/* The settings part of the poll ends at step i (refused, unanswered or
 * broken): on to the first step after the settings steps from i on. */
static void bms_paceic_no_settings(const struct bms_paceic *pc, struct bms_poll *poll, int i)
{
	while (i < pc->nsteps && bms_paceic_settings(pc, i))
		i++;
	poll->step = i;
}

/* A settings step is due when the settings are, of a pack with an
 * identity of its own (not one read through its master). */
static bool bms_paceic_due(const struct bms_paceic *pc, const struct bms_poll *poll, int i)
{
	if (bms_paceic_settings(pc, i))
		return poll->settings_due && (!pc->has_ident || pc->has_ident(poll));
	if (!pc->steps[i].ident)
		return true;
	return bms_ident_due(poll) && (!pc->has_ident || pc->has_ident(poll));
}

int bms_paceic_current(const struct bms_paceic *pc, const struct bms_poll *poll)
{
	for (int i = poll->step < 0 ? pc->nsteps : poll->step; i < pc->nsteps; i++)
		if (bms_paceic_due(pc, poll, i))
			return i;
	return pc->nsteps;
}

int bms_paceic_next_request(const struct bms_paceic *pc, struct bms_poll *poll, uint8_t *out, size_t cap)
{
	uint8_t info[16];
	if (poll->address < pc->min_address || poll->address > pc->max_address || poll->step < 0)
		return BMS_E_RANGE;
	int i = bms_paceic_current(pc, poll);
	if (i >= pc->nsteps)
		return 0;
	const struct bms_paceic_step *st = &pc->steps[i];
	size_t n = st->info ? st->info(poll, info) : 0;
	return bms_pylonframe_build_soi(out, cap, pc->soi ? pc->soi(poll) : BMS_PYLONFRAME_SOI, pc->ver, poll->address,
					pc->cid1, st->cid2, info, n);
}

enum bms_scan bms_paceic_scan(const struct bms_paceic *pc, const struct bms_poll *poll, const uint8_t *buf,
			      size_t len, size_t *n)
{
	(void)poll;
	return bms_pylonframe_scan_sois(buf, len, n, pc->sois);
}

/* The identity part of the poll ends (refused: an error code came). */
static void bms_paceic_no_ident(const struct bms_paceic *pc, struct bms_poll *poll, bool refused)
{
	bms_ident_missing(poll, refused);
	poll->step = pc->nsteps;
}

int bms_paceic_handle(const struct bms_paceic *pc, struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	struct bms_pylonframe f;
	uint8_t info[BMS_PYLONFRAME_MAX_INFO];
	int i = bms_paceic_current(pc, poll);

	int rc = bms_pylonframe_take_from(poll, pc->nsteps, pc->cid1, frame, len, &f, info, sizeof(info));
	if (rc >= 0 && i >= pc->nsteps)
		return BMS_E_UNEXPECTED; /* the poll is complete */
	if ((rc == BMS_OK || rc == BMS_E_REFUSED) && pc->answered)
		pc->answered(poll, frame[0]);
	if (rc == BMS_E_REFUSED && i < pc->nsteps && pc->steps[i].ident) {
		bms_paceic_no_ident(pc, poll, true);
		return BMS_OK;
	}
	if (rc == BMS_E_REFUSED && i < pc->nsteps && bms_paceic_settings(pc, i)) {
		poll->refusals++; /* no settings from this pack: the poll goes on */
		bms_paceic_no_settings(pc, poll, i);
		return BMS_OK;
	}
	if (rc < 0)
		return rc;
	rc = pc->steps[i].decode(poll, info, f.ninfo);
	if (rc == BMS_OK)
		poll->step = i + 1;
	return rc;
}

bool bms_paceic_timeout(const struct bms_paceic *pc, struct bms_poll *poll)
{
	int i = bms_paceic_current(pc, poll);
	if (i >= pc->nsteps || poll->step < 0)
		return false;
	if (pc->steps[i].ident) {
		bms_paceic_no_ident(pc, poll, false);
		return true;
	}
	if (bms_paceic_settings(pc, i)) {
		bms_paceic_no_settings(pc, poll, i); /* unanswered or broken: the poll goes on */
		return true;
	}
	if (pc->missed)
		pc->missed(poll);
	return false;
}

/* ---- probes ---------------------------------------------------------------- */

void bms_paceic_probe_judge(const struct bms_driver *d, const uint8_t *vers, const struct bms_poll *poll,
			    const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	bms_probe_judge_frames(d, poll, buf, len, r);
	if (r->verdict == BMS_PROBE_NONE || r->used - r->start < BMS_PYLONFRAME_HEAD)
		return;
	const uint8_t *f = buf + r->start;
	long ver = bms_pylonframe_hexn(f + 1, 2), rtn = bms_pylonframe_hexn(f + 7, 2);
	long adr = bms_pylonframe_hexn(f + 3, 2);
	if (adr >= 0) {
		r->has_from = true;
		r->from = (uint8_t)adr;
	}
	bool known = false;
	for (const uint8_t *v = vers; *v; v++)
		known = known || *v == ver;
	if (r->verdict == BMS_PROBE_REFUSED) {
		snprintf(r->what, sizeof(r->what), "error code RTN 0x%02lX from a device of protocol version 0x%02lX",
			 rtn, ver);
	} else if (!known) {
		r->verdict = BMS_PROBE_IMPLAUSIBLE;
		snprintf(r->what, sizeof(r->what), "an answer of protocol version 0x%02lX (another dialect)", ver);
	}
}
