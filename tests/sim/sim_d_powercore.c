/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_d_powercore.c - a D-powercore DXB / TBA pack over
 * Bluetooth LE, the BMS side of the FFF0 link as a fake BlueZ bridges it to
 * a TCP port (writes to FFF3 in, notifications of FFF4 out).
 *
 * bms/PROTOCOLS.md §69.  Everything is a 20-byte page (byte 0 the frame
 * bytes it carries, bit 7 an acknowledgement; byte 1 page and pages).  A
 * request page (byte 1 0x11, byte 0 the frame's length + 2: 3A 03 05 cmd
 * 00 00 data sum 0D 0A, the sum that of cmd .. data + 8) is acknowledged at
 * once (echoed with bit 7 set), then answered with 3A 05 03 cmd len data
 * sum 0D 0A in pages of 18 bytes:
 *	0x60 voltage 0.1 V (the cells' sum), current s16 0.1 A, 2 bytes 0,
 *	     remaining mAh, SOC %, alarm byte 0 as the problem code
 *	0x61 2 bytes 0, cycles, 2 bytes 0, the first sensor 0.1 K, 4 bytes 0
 *	0x62 the cells (at most 32), each mV
 * one page at a time: the next once the host has acknowledged the last
 * (its 20 bytes echoed, bit 7 set); pages=burst sends them all at once.
 * A DXB (unlock=HHHH, C0FE unless given: its name's last four digits)
 * acknowledges a read but answers nothing until 0x64 with those two bytes
 * came on this connection; a wrong unlock is acknowledged and leaves it
 * locked; unlock=none is a TBA, never locked.  Another command, a bad sum,
 * an acknowledgement of no page sent are bad requests.  `badsum` flips a
 * frame byte in each page (its sum or end fails).  One device per
 * connection.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DP_PAGE 20
#define DP_DATA 18
#define DP_MAX_PAGES 8
#define DP_MAX_CELLS 32
#define DP_PWD_DEFAULT 0xC0FE
#define DP_D_SET (1 << 16)   /* dialect: the unlock given (bits 0..15) */
#define DP_D_TBA (1 << 17)   /* a TBA: no unlock */
#define DP_D_BURST (1 << 18) /* every page at once */

/* The pages of the answer being sent, and how many went out. */
static struct {
	uint8_t page[DP_MAX_PAGES][DP_PAGE];
	int n, sent;
} dp_out;

int sim_dp_option(struct sim_pack *p, const char *k, const char *v)
{
	if (strcmp(k, "pages") == 0) {
		if (strcmp(v, "burst") != 0 && strcmp(v, "acked") != 0)
			return -1;
		p->dialect = (p->dialect & ~DP_D_BURST) | (v[0] == 'b' ? DP_D_BURST : 0);
		return 0;
	}
	if (strcmp(v, "none") == 0) {
		p->dialect = (p->dialect & DP_D_BURST) | DP_D_TBA;
		return 0;
	}
	char *end;
	unsigned long pwd = strtoul(v, &end, 16);
	if (strlen(v) != 4 || *end || pwd > 0xFFFF)
		return -1;
	p->dialect = (p->dialect & DP_D_BURST) | DP_D_SET | (int)pwd;
	return 0;
}

static unsigned dp_pwd(const struct sim_pack *p)
{
	return p->dialect & DP_D_SET ? (unsigned)(p->dialect & 0xFFFF) : DP_PWD_DEFAULT;
}

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void be16(uint8_t *b, unsigned long v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

struct dp_raw {
	int ncells;
	long mv[DP_MAX_CELLS], dv, da, mah, soc, dk;
};

static void dp_quantise(const struct sim_pack *p, struct dp_raw *r)
{
	long sum = 0;
	memset(r, 0, sizeof *r);
	r->ncells = p->ncells < DP_MAX_CELLS ? p->ncells : DP_MAX_CELLS;
	for (int i = 0; i < r->ncells; i++) {
		r->mv[i] = clampl(sim_pack_cell_mv(p, i), 0, 65535);
		sum += r->mv[i];
	}
	r->dv = clampl(lround(sum / 100.0), 0, 65535);
	r->da = clampl(lround(p->current * 10.0), -32768, 32767);
	r->mah = clampl(lround(p->capacity_ah * p->soc * 10.0), 0, 65535);
	r->soc = clampl(lround(p->soc), 0, 100);
	r->dk = clampl(lround(p->temp_c[0] * 10.0 + 2731.5), 0, 65535);
}

static void dp_view(const struct sim_pack *p, struct sim_view *v)
{
	struct dp_raw r;
	dp_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = r.dv / 10.0;
	v->current = r.da / 10.0;
	v->soc = (double)r.soc;
	v->remaining_ah = r.mah / 1000.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.mv[i];
	v->ntemps = 1;
	v->temp_c[0] = p->temp_c[0];
	v->nalarm = 1;
	v->alarm[0] = p->alarm[0];
}

/* A page every 20 bytes: what the host writes (requests, acknowledgements). */
static enum sim_scan dp_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len < DP_PAGE)
		return SIM_SCAN_NEED;
	*n = DP_PAGE;
	unsigned cnt = buf[0] & 0x7Fu, pg = buf[1] >> 4, tot = buf[1] & 0x0Fu;
	return cnt >= 1 && cnt <= DP_PAGE && pg >= 1 && pg <= tot ? SIM_SCAN_FRAME : SIM_SCAN_BAD;
}

static int dp_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one device per connection */
}

static unsigned dp_sum(const uint8_t *b, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += b[i];
	return s;
}

/* The answer frame of cmd into dp_out's pages (0: no such read). */
static int dp_answer(const struct sim_pack *p, uint8_t cmd)
{
	struct dp_raw r;
	uint8_t f[DP_MAX_PAGES * DP_DATA] = { 0x3A, 0x05, 0x03, cmd };
	uint8_t *d = f + 6;
	size_t len;
	dp_quantise(p, &r);
	if (cmd == 0x60) {
		be16(d, (unsigned long)r.dv);
		be16(d + 2, (unsigned long)(r.da & 0xFFFF));
		be16(d + 6, (unsigned long)r.mah);
		d[8] = (uint8_t)r.soc;
		d[9] = p->alarm[0];
		len = 10;
	} else if (cmd == 0x61) {
		be16(d + 2, p->cycles & 0xFFFF);
		be16(d + 6, (unsigned long)r.dk);
		len = 12;
	} else if (cmd == 0x62) {
		d[0] = (uint8_t)r.ncells;
		for (int i = 0; i < r.ncells; i++)
			be16(d + 1 + 2 * i, (unsigned long)r.mv[i]);
		len = 1 + 2 * (size_t)r.ncells;
	} else {
		return 0;
	}
	be16(f + 4, len);
	be16(d + len, (dp_sum(f + 3, 3 + len) + 8) & 0xFFFF);
	d[len + 2] = 0x0D;
	d[len + 3] = 0x0A;
	size_t total = len + 10;
	memset(&dp_out, 0, sizeof dp_out);
	dp_out.n = (int)((total + DP_DATA - 1) / DP_DATA);
	for (int k = 0; k < dp_out.n; k++) {
		size_t off = (size_t)k * DP_DATA, m = total - off < DP_DATA ? total - off : DP_DATA;
		dp_out.page[k][0] = (uint8_t)m;
		dp_out.page[k][1] = (uint8_t)((k + 1) << 4 | dp_out.n);
		memcpy(dp_out.page[k] + 2, f + off, m);
	}
	return 1;
}

/* The next page of the answer (all that is left with pages=burst). */
static void dp_send(const struct sim_pack *p, struct sim_reply *reply)
{
	do
		sim_reply_add(reply, dp_out.page[dp_out.sent], DP_PAGE);
	while (++dp_out.sent < dp_out.n && (p->dialect & DP_D_BURST));
}

/* The host acknowledges page k: it must be the last one sent, echoed. */
static enum sim_resp dp_acked(const struct sim_pack *p, const uint8_t *req, struct sim_reply *reply)
{
	int k = dp_out.sent - 1;
	int burst = (p->dialect & DP_D_BURST) != 0;
	if (burst) { /* all went out: any of them may be acknowledged, each once */
		for (k = 0; k < dp_out.n; k++)
			if ((dp_out.page[k][0] | 0x80) == req[0] && memcmp(dp_out.page[k] + 1, req + 1, DP_PAGE - 1) == 0)
				break;
	}
	if (k < 0 || k >= dp_out.n || (dp_out.page[k][0] | 0x80) != req[0] ||
	    memcmp(dp_out.page[k] + 1, req + 1, DP_PAGE - 1) != 0)
		return SIM_RESP_BAD; /* no page of ours */
	dp_out.page[k][1] = 0; /* acknowledged: never again */
	if (burst || dp_out.sent >= dp_out.n)
		return SIM_RESP_NONE;
	dp_send(p, reply);
	return SIM_RESP_OK;
}

static enum sim_resp dp_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n != DP_PAGE)
		return SIM_RESP_BAD;
	if (req[0] & 0x80)
		return dp_acked(p, req, reply);
	const uint8_t *f = req + 2;
	size_t fl = (size_t)req[0] - 2, dl = fl >= 10 ? fl - 10 : 0;
	if (req[1] != 0x11 || req[0] < 12 || f[0] != 0x3A || f[1] != 0x03 || f[2] != 0x05 || f[4] || f[5] ||
	    f[fl - 2] != 0x0D || f[fl - 1] != 0x0A || ((f[fl - 4] << 8) | f[fl - 3]) != (int)((dp_sum(f + 3, 3 + dl) + 8) & 0xFFFF))
		return SIM_RESP_BAD;
	uint8_t ack[DP_PAGE];
	memcpy(ack, req, DP_PAGE);
	ack[0] |= 0x80;
	sim_reply_add(reply, ack, DP_PAGE);
	dp_out.n = dp_out.sent = 0;
	uint8_t cmd = f[3];
	if (cmd == 0x64) {
		if (dl != 2)
			return SIM_RESP_BAD;
		if (!(p->dialect & DP_D_TBA) && (unsigned)(f[6] << 8 | f[7]) == dp_pwd(p))
			p->stream = 1; /* unlocked until the connection ends (the core clears it) */
		return SIM_RESP_OK;
	}
	if (dl != 0 || !dp_answer(p, cmd))
		return SIM_RESP_BAD;
	if ((p->dialect & DP_D_TBA) || p->stream)
		dp_send(p, reply);
	return SIM_RESP_OK;
}

/* badsum: a frame byte of each answer page flipped (its sum or its end fails) */
static void dp_corrupt(uint8_t *page, size_t n)
{
	if (n == DP_PAGE && !(page[0] & 0x80) && page[0] >= 1 && page[0] <= DP_DATA)
		page[2 + page[0] / 2] ^= 0x01;
}

const struct sim_proto sim_proto_d_powercore = {
	.name = "d-powercore",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per connection */
	.max_cells = DP_MAX_CELLS,
	.max_temps = 1,
	.scan = dp_scan,
	.address = dp_address,
	.respond = dp_respond,
	.view = dp_view,
	.corrupt = dp_corrupt,
	.ble_name = "DXB-MockBLEDevice_C0FE",
};
