/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pylonframe.c - Pylontech-style ASCII framing, BMS side.
 * See sim_pylonframe.h.  LENGTH = LCHKSUM << 12 | LENID with LCHKSUM =
 * -(sum of LENID's three nibbles) mod 16; CHKSUM = -(sum of the characters
 * between '~' and CHKSUM) mod 65536. */
#include "sim_pylonframe.h"

#include <string.h>

#include "../../bms/bms.h"

#define SOI '~'
#define SOI_KS '>'               /* KS48100 */
#define EOI '\r'
#define HEAD 13                  /* '~' VER ADR CID1 CID2 LENGTH */
#define MAX_FRAME 1100           /* longest request we wait for */

static int is_soi(uint8_t c)
{
	return c == SOI || c == SOI_KS;
}

static long hexn(const uint8_t *p, size_t n)
{
	uint32_t v;
	return bms_hexn(p, n, &v) ? (long)v : -1;
}

static unsigned length_word(unsigned lenid)
{
	unsigned s = (lenid & 0xF) + ((lenid >> 4) & 0xF) + ((lenid >> 8) & 0xF);
	return ((16 - (s & 0xF)) & 0xF) << 12 | (lenid & 0xFFF);
}

static unsigned checksum(const uint8_t *p, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return (~s + 1) & 0xFFFF;
}

/* Is buf[0..n) (from '~' through CR) a well-formed frame? */
static int valid(const uint8_t *buf, size_t n)
{
	if (n < HEAD + 5 || !is_soi(buf[0]) || buf[n - 1] != EOI)
		return 0;
	for (size_t i = 1; i < n - 1; i++)
		if (bms_hexval(buf[i]) < 0)
			return 0;
	long len = hexn(buf + 9, 4);
	unsigned lenid = (unsigned)len & 0xFFF;
	if ((unsigned)len != length_word(lenid) || (lenid & 1) || n != lenid + HEAD + 5)
		return 0;
	return hexn(buf + n - 5, 4) == (long)checksum(buf + 1, n - 6);
}

enum sim_scan sim_pylonframe_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (!is_soi(buf[0])) {
		size_t i = 1;
		while (i < len && !is_soi(buf[i]))
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	for (size_t i = 1; i < len; i++) {
		if (is_soi(buf[i])) { /* a new frame before this one ended */
			*n = i;
			return SIM_SCAN_BAD;
		}
		if (buf[i] == EOI) {
			*n = i + 1;
			return valid(buf, i + 1) ? SIM_SCAN_FRAME : SIM_SCAN_BAD;
		}
	}
	if (len >= MAX_FRAME) {
		*n = len;
		return SIM_SCAN_BAD;
	}
	return SIM_SCAN_NEED;
}

int sim_pylonframe_parse(const uint8_t *req, size_t n, struct sim_pylonframe_req *r)
{
	if (!valid(req, n))
		return -1;
	r->soi = req[0];
	r->ver = (uint8_t)hexn(req + 1, 2);
	r->adr = (uint8_t)hexn(req + 3, 2);
	r->cid1 = (uint8_t)hexn(req + 5, 2);
	r->cid2 = (uint8_t)hexn(req + 7, 2);
	r->ninfo = (n - HEAD - 5) / 2;
	if (r->ninfo > sizeof r->info)
		return -1;
	for (size_t i = 0; i < r->ninfo; i++)
		r->info[i] = (uint8_t)hexn(req + HEAD + 2 * i, 2);
	return 0;
}

int sim_pylonframe_address(const uint8_t *req, size_t n)
{
	if (!valid(req, n))
		return -1;
	return (int)hexn(req + 3, 2);
}

static void puthex(uint8_t *p, unsigned v, int digits)
{
	static const char hex[] = "0123456789ABCDEF";
	for (int i = 0; i < digits; i++)
		p[i] = (uint8_t)hex[(v >> (4 * (digits - 1 - i))) & 0xF];
}

int sim_pylonframe_reply(struct sim_reply *reply, uint8_t ver, uint8_t adr, uint8_t rtn,
                         const struct sim_pylonframe_info *info)
{
	return sim_pylonframe_reply_ex(reply, SOI, ver, adr, SIM_PYLONFRAME_CID1, rtn, info);
}

void sim_pylonframe_text(struct sim_pylonframe_info *i, const char *s, size_t n)
{
	size_t l = strlen(s);
	for (size_t k = 0; k < n; k++)
		sim_pylonframe_put8(i, k < l ? (uint8_t)s[k] : ' ');
}

int sim_pylonframe_reply_ex(struct sim_reply *reply, uint8_t soi, uint8_t ver, uint8_t adr, uint8_t cid1,
                            uint8_t rtn, const struct sim_pylonframe_info *info)
{
	uint8_t f[HEAD + 5 + 2 * SIM_PYLONFRAME_MAX_INFO];
	size_t ninfo = info ? info->len : 0, k = 0;

	if (info && info->overflow)
		return -1;
	f[k++] = soi;
	puthex(f + k, ver, 2);
	puthex(f + k + 2, adr, 2);
	puthex(f + k + 4, cid1, 2);
	puthex(f + k + 6, rtn, 2);
	puthex(f + k + 8, length_word((unsigned)(2 * ninfo)), 4);
	k += 12;
	for (size_t i = 0; i < ninfo; i++, k += 2)
		puthex(f + k, info->b[i], 2);
	puthex(f + k, checksum(f + 1, k - 1), 4);
	k += 4;
	f[k++] = EOI;
	return sim_reply_add(reply, f, k);
}

void sim_pylonframe_corrupt(uint8_t *frame, size_t n)
{
	if (n >= HEAD + 5) {
		uint8_t *c = frame + n - 2; /* last CHKSUM character */
		*c = *c == '0' ? '1' : '0';
	} else if (n) {
		frame[n - 1] ^= 0x01;
	}
}

void sim_pylonframe_put8(struct sim_pylonframe_info *i, unsigned v)
{
	if (i->len >= sizeof i->b) {
		i->overflow = 1;
		return;
	}
	i->b[i->len++] = (uint8_t)v;
}

void sim_pylonframe_put16(struct sim_pylonframe_info *i, unsigned v)
{
	sim_pylonframe_put8(i, (v >> 8) & 0xFF);
	sim_pylonframe_put8(i, v & 0xFF);
}

void sim_pylonframe_put24(struct sim_pylonframe_info *i, unsigned long v)
{
	sim_pylonframe_put8(i, (unsigned)(v >> 16) & 0xFF);
	sim_pylonframe_put16(i, (unsigned)(v & 0xFFFF));
}

long sim_pylonframe_clamp(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

unsigned long sim_pylonframe_cells(const struct sim_pack *p, int max, unsigned *mv, int *n)
{
	unsigned long sum = 0;
	*n = p->ncells > max ? max : p->ncells;
	for (int i = 0; i < *n; i++) {
		mv[i] = (unsigned)sim_pylonframe_clamp(sim_pack_cell_mv(p, i), 0, 65535);
		sum += mv[i];
	}
	return sum;
}
