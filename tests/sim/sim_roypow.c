/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_roypow.c - a RoyPow / Epoch BMS over Bluetooth LE, the BMS
 * side of the GATT link, as a fake BlueZ bridges it to a TCP port (writes
 * to FFE1 in, notifications of FFE1 out).
 *
 * bms/PROTOCOLS.md §48.  Requests are EA D1 01 04 FF <cmd> <xor> F5; every
 * answer is EA D1 01 <len> FF <cmd> <data> <xor> F5 (len + 4 bytes, the
 * XOR of the bytes from len to the last data byte), big-endian:
 *	0x03	30 bytes: current (byte 6 bit 0 = discharging, 7..8 0.01 A),
 *		alarm bytes 0..2 as the problem code (9..11), the
 *		temperatures (13 count, 14.. °C + 40), 24 the MOSFETs (bit 2
 *		charge, bit 1 discharge);
 *	0x04	61 bytes: the tags 01..09 three bytes apart, SOC, cycles,
 *		capacity and remaining mAh (high word, tag, low word), minutes
 *		left FFFF; the voltage at 47 (0.01 V);
 *	0x02	the cells from byte 9 (mV), the count in bytes 6..8;
 * anything else is a bad request.  junk=1: the module's "AT+STAT\r\n"
 * comes before and after every answer, as the source shows it.  Encoded
 * here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define RP_REQ 8
#define RP_MAX_CELLS 32
#define RP_MAX_TEMPS 8
#define RP_AT "AT+STAT\r\n"

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int rp_ncells(const struct sim_pack *p)
{
	return p->ncells < RP_MAX_CELLS ? p->ncells : RP_MAX_CELLS;
}

static int rp_ntemps(const struct sim_pack *p)
{
	int n = p->ntemps < RP_MAX_TEMPS ? p->ntemps : RP_MAX_TEMPS;
	return n > 0 ? n : 1;
}

static long rp_cv(const struct sim_pack *p)
{
	long mv = 0;
	for (int i = 0; i < rp_ncells(p); i++)
		mv += sim_pack_cell_mv(p, i);
	return clampl(lround(mv / 10.0), 0, 0xFFFF);
}

static long rp_ca(const struct sim_pack *p)
{
	return clampl(lround(fabs(p->current) * 100.0), 0, 0xFFFF);
}

/* mAh, a u32 field: in 64 bits, where a 32-bit long's bound 0xFFFFFFFF
 * would be -1 (and every pack 4.29e6 Ah) */
static int64_t rp_mah(double ah)
{
	double mah = round(ah * 1000.0);
	return mah < 0 ? 0 : mah > 0xFFFFFFFF ? 0xFFFFFFFF : (int64_t)mah;
}

static int rp_temp(const struct sim_pack *p, int i)
{
	return (int)clampl(i < p->ntemps ? p->temp_c[i] : 25, -40, 215);
}

static void rp_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
		 SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = rp_cv(p) / 100.0;
	v->current = (p->current < 0 ? -1 : 1) * rp_ca(p) / 100.0;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->capacity_ah = rp_mah(p->capacity_ah) / 1000.0;
	v->remaining_ah = rp_mah(p->capacity_ah * p->soc / 100.0) / 1000.0;
	v->cycles = p->cycles & 0xFFFFu;
	v->ncells = rp_ncells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	v->ntemps = rp_ntemps(p);
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = rp_temp(p, i);
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->nalarm = 3;
	for (int i = 0; i < 3; i++)
		v->alarm[i] = p->alarm[i];
}

/* Frame the answer to cmd with data d[0..n) (the bytes after FF cmd). */
static void rp_add(const struct sim_pack *p, struct sim_reply *reply, uint8_t cmd, const uint8_t *d, size_t n)
{
	uint8_t f[96];
	f[0] = 0xEA;
	f[1] = 0xD1;
	f[2] = 0x01;
	f[3] = (uint8_t)(n + 4);
	f[4] = 0xFF;
	f[5] = cmd;
	memcpy(f + 6, d, n);
	uint8_t x = 0;
	for (size_t i = 3; i < n + 6; i++)
		x ^= f[i];
	f[n + 6] = x;
	f[n + 7] = 0xF5;
	if (p->junk)
		sim_reply_add(reply, (const uint8_t *)RP_AT, strlen(RP_AT));
	sim_reply_add(reply, f, n + 8);
	if (p->junk)
		sim_reply_add(reply, (const uint8_t *)RP_AT, strlen(RP_AT));
}

/* data offsets are the frame's minus 6 */
static void rp_status(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[22] = { 0 };
	long a = rp_ca(p);
	d[0] = (uint8_t)(0x32 | (p->current < 0 && a ? 1 : 0)); /* the capture's other bits */
	d[1] = (uint8_t)(a >> 8);
	d[2] = (uint8_t)a;
	d[3] = p->alarm[2];
	d[4] = p->alarm[1];
	d[5] = p->alarm[0];
	d[7] = (uint8_t)rp_ntemps(p);
	for (int i = 0; i < rp_ntemps(p); i++)
		d[8 + i] = (uint8_t)(rp_temp(p, i) + 40);
	d[18] = (uint8_t)((p->chg_mos ? 4 : 0) | (p->dsg_mos ? 2 : 0) | 1);
	rp_add(p, reply, 0x03, d, sizeof d);
}

static void rp_tag32(uint8_t *d, int tag, uint32_t v)
{
	/* tag hi_hi hi_lo  tag+1 lo_hi lo_lo, at frame offset 2 + 3 tag */
	uint8_t *t = d + 3 * tag - 4;
	t[0] = (uint8_t)tag;
	t[1] = (uint8_t)(v >> 24);
	t[2] = (uint8_t)(v >> 16);
	t[3] = (uint8_t)(tag + 1);
	t[4] = (uint8_t)(v >> 8);
	t[5] = (uint8_t)v;
}

static void rp_pack(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[53] = { 0 };
	d[0] = 1;
	d[1] = (uint8_t)clampl(lround(p->soc), 0, 100);
	d[2] = 2;
	d[3] = (uint8_t)(p->cycles >> 8);
	d[4] = (uint8_t)p->cycles;
	rp_tag32(d, 3, (uint32_t)rp_mah(p->capacity_ah));
	rp_tag32(d, 5, (uint32_t)rp_mah(p->capacity_ah));
	rp_tag32(d, 7, (uint32_t)rp_mah(p->capacity_ah * p->soc / 100.0));
	d[23] = 9;
	d[24] = 0xFF; /* no time left given */
	d[25] = 0xFF;
	long cv = rp_cv(p);
	d[41] = (uint8_t)(cv >> 8);
	d[42] = (uint8_t)cv;
	rp_add(p, reply, 0x04, d, sizeof d);
}

static void rp_cells(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[3 + 2 * RP_MAX_CELLS];
	int n = rp_ncells(p);
	d[0] = d[1] = d[2] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		int mv = sim_pack_cell_mv(p, i);
		d[3 + 2 * i] = (uint8_t)(mv >> 8);
		d[4 + 2 * i] = (uint8_t)mv;
	}
	rp_add(p, reply, 0x02, d, 3 + 2 * (size_t)n);
}

static enum sim_scan rp_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0xEA) {
		size_t i = 1;
		while (i < len && buf[i] != 0xEA)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 4)
		return SIM_SCAN_NEED;
	size_t want = (size_t)buf[3] + 4;
	if (buf[3] < 4) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	if (len < want)
		return SIM_SCAN_NEED;
	uint8_t x = 0;
	for (size_t i = 3; i < want - 2; i++)
		x ^= buf[i];
	if (buf[1] != 0xD1 || buf[2] != 0x01 || x != buf[want - 2] || buf[want - 1] != 0xF5) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = want;
	return SIM_SCAN_FRAME;
}

static int rp_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp rp_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n != RP_REQ || req[3] != 4 || req[4] != 0xFF)
		return SIM_RESP_BAD;
	if (req[5] == 0x03)
		rp_status(p, reply);
	else if (req[5] == 0x04)
		rp_pack(p, reply);
	else if (req[5] == 0x02)
		rp_cells(p, reply);
	else
		return SIM_RESP_BAD;
	return SIM_RESP_OK;
}

/* fault badsum: the XOR ("AT+STAT" text stays as it is) */
static void rp_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 8 && frame[0] == 0xEA)
		frame[n - 2] ^= 0x01;
}

const struct sim_proto sim_proto_roypow = {
	.name = "roypow",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = RP_MAX_CELLS,
	.max_temps = RP_MAX_TEMPS,
	.scan = rp_scan,
	.address = rp_address,
	.respond = rp_respond,
	.view = rp_view,
	.corrupt = rp_corrupt,
};
