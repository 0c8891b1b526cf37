/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_basen.c - a Basen BMS over Bluetooth LE, the BMS side of
 * the GATT link, as a fake BlueZ bridges it to a TCP port (writes to FA02
 * in, notifications of FA01 out).
 *
 * bms/PROTOCOLS.md §55.  Requests are 3A 16 <type> 01 00 <sum16 LE> 0D 0A;
 * every answer is 3A 16 <type> <len> <data> <sum16 LE> 0D 0A (the 16-bit
 * sum of the address, type, length and data), little-endian:
 *	0x2A	24 bytes: mA (s32, + = charging), mV (u32, the cells' sum), four
 *		s8 °C, remaining mAh, the charge and discharge states (bit 7
 *		the MOSFET; alarm bytes 0 and 1 in bits 0..6), the warnings
 *		(alarm bytes 2 and 3), SOC;
 *	0x2B	24 bytes: nominal and real capacity mAh, 25.6 V, cycles;
 *	0x24 / 0x25 / 0x26	the cells 1..12, 13..24, 25..34 (mV, 0 = none);
 * anything else (the balancing frame 0xFE, the settings, the writes 0xEB)
 * is counted as a bad request.  junk=1: each answer but a status comes
 * after a status with the start byte 3B, as the capture shows the pack
 * pushing one.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define BA_REQ 9
#define BA_MAX_CELLS 34
#define BA_NTEMPS 4

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int ba_ncells(const struct sim_pack *p)
{
	return p->ncells < BA_MAX_CELLS ? p->ncells : BA_MAX_CELLS;
}

static long ba_mv(const struct sim_pack *p)
{
	long mv = 0;
	for (int i = 0; i < ba_ncells(p); i++)
		mv += sim_pack_cell_mv(p, i);
	return mv;
}

static long ba_ma(const struct sim_pack *p)
{
	return clampl(lround(p->current * 1000.0), -0x7FFFFFFF, 0x7FFFFFFF);
}

static long ba_mah(double ah)
{
	return clampl(lround(ah * 1000.0), 0, 0x7FFFFFFF);
}

static int ba_temp(const struct sim_pack *p, int i)
{
	return (int)clampl(i < p->ntemps ? p->temp_c[i] : 25, -128, 127);
}

static void ba_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
		 SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = ba_mv(p) / 1000.0;
	v->current = ba_ma(p) / 1000.0;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->capacity_ah = ba_mah(p->capacity_ah) / 1000.0;
	v->remaining_ah = ba_mah(p->capacity_ah * p->soc / 100.0) / 1000.0;
	v->cycles = p->cycles & 0xFFFFu;
	v->ncells = ba_ncells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	v->ntemps = BA_NTEMPS; /* all four always sent */
	for (int i = 0; i < BA_NTEMPS; i++)
		v->temp_c[i] = ba_temp(p, i);
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->nalarm = 4;
	for (int i = 0; i < 4; i++)
		v->alarm[i] = p->alarm[i];
}

static void put32(uint8_t *f, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		f[i] = (uint8_t)(v >> (8 * i));
}

/* Frame data d[0..n) as the answer of this type, with start byte sof. */
static void ba_add(struct sim_reply *reply, uint8_t sof, uint8_t type, const uint8_t *d, size_t n)
{
	uint8_t f[64 + 8];
	unsigned sum = 0;
	f[0] = sof;
	f[1] = 0x16;
	f[2] = type;
	f[3] = (uint8_t)n;
	memcpy(f + 4, d, n);
	for (size_t i = 1; i < n + 4; i++)
		sum += f[i];
	f[n + 4] = (uint8_t)sum;
	f[n + 5] = (uint8_t)(sum >> 8);
	f[n + 6] = 0x0D;
	f[n + 7] = 0x0A;
	sim_reply_add(reply, f, n + 8);
}

static void ba_status(const struct sim_pack *p, struct sim_reply *reply, uint8_t sof)
{
	uint8_t d[24] = { 0 };
	put32(d, (unsigned long)ba_ma(p) & 0xFFFFFFFFul);
	put32(d + 4, (unsigned long)ba_mv(p));
	for (int i = 0; i < BA_NTEMPS; i++)
		d[8 + i] = (uint8_t)(int8_t)ba_temp(p, i);
	put32(d + 12, (unsigned long)ba_mah(p->capacity_ah * p->soc / 100.0));
	d[16] = (uint8_t)((p->alarm[0] & 0x7F) | (p->chg_mos ? 0x80 : 0));
	d[17] = (uint8_t)((p->alarm[1] & 0x7F) | (p->dsg_mos ? 0x80 : 0));
	d[18] = p->alarm[2];
	d[19] = p->alarm[3];
	d[20] = (uint8_t)clampl(lround(p->soc), 0, 100);
	ba_add(reply, sof, 0x2A, d, sizeof d);
}

static void ba_general(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[24] = { 0 };
	put32(d, (unsigned long)ba_mah(p->capacity_ah));
	put32(d + 4, 25600);
	put32(d + 8, (unsigned long)ba_mah(p->capacity_ah));
	d[20] = 0x71; /* 2021-11-17, as the capture */
	d[21] = 0x53;
	d[22] = (uint8_t)p->cycles;
	d[23] = (uint8_t)(p->cycles >> 8);
	ba_add(reply, 0x3A, 0x2B, d, sizeof d);
}

static void ba_cells(const struct sim_pack *p, struct sim_reply *reply, int chunk)
{
	uint8_t d[24] = { 0 };
	int first = 12 * chunk, slots = chunk == 2 ? 10 : 12;
	for (int i = 0; i < slots && first + i < ba_ncells(p); i++) {
		int mv = sim_pack_cell_mv(p, first + i);
		d[2 * i] = (uint8_t)mv;
		d[2 * i + 1] = (uint8_t)(mv >> 8);
	}
	ba_add(reply, 0x3A, (uint8_t)(0x24 + chunk), d, 2 * (size_t)slots);
}

static enum sim_scan ba_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x3A && buf[0] != 0x3B) {
		size_t i = 1;
		while (i < len && buf[i] != 0x3A && buf[i] != 0x3B)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 4)
		return SIM_SCAN_NEED;
	size_t want = (size_t)buf[3] + 8;
	if (len < want)
		return SIM_SCAN_NEED;
	unsigned sum = 0;
	for (size_t i = 1; i < want - 4; i++)
		sum += buf[i];
	if (buf[1] != 0x16 || (sum & 0xFFFFu) != (unsigned)(buf[want - 4] | buf[want - 3] << 8) ||
	    buf[want - 2] != 0x0D || buf[want - 1] != 0x0A) {
		*n = 1;
		return SIM_SCAN_BAD;
	}
	*n = want;
	return SIM_SCAN_FRAME;
}

static int ba_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp ba_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	if (n != BA_REQ || req[3] != 1 || req[4] != 0)
		return SIM_RESP_BAD;
	if (req[2] != 0x2A && req[2] != 0x2B && (req[2] < 0x24 || req[2] > 0x26))
		return SIM_RESP_BAD;
	if (p->junk && req[2] != 0x2A)
		ba_status(p, reply, 0x3B);
	if (req[2] == 0x2A)
		ba_status(p, reply, 0x3A);
	else if (req[2] == 0x2B)
		ba_general(p, reply);
	else
		ba_cells(p, reply, req[2] - 0x24);
	return SIM_RESP_OK;
}

/* fault badsum: the sum's low byte */
static void ba_corrupt(uint8_t *frame, size_t n)
{
	frame[n - 4] ^= 0x01;
}

const struct sim_proto sim_proto_basen = {
	.name = "basen",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = BA_MAX_CELLS,
	.max_temps = BA_NTEMPS,
	.scan = ba_scan,
	.address = ba_address,
	.respond = ba_respond,
	.view = ba_view,
	.corrupt = ba_corrupt,
};
