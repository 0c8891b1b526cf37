/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_ks48.c - a KS48x00 / Braun Power BMS over Bluetooth LE,
 * the BMS side of the GATT link, as a fake BlueZ bridges it to a TCP port
 * (writes to FF02 in, notifications of FF01 out).
 *
 * bms/PROTOCOLS.md §54.  Requests are 7B <cmd> 00 7D; every answer is
 * 7B <cmd> <len> <data> 7D, big-endian, no checksum:
 *	0x01	32 bytes: SOC, V 0.01, average, ambient and MOSFET 0.1 °C,
 *		current 0.01 A (s16, + = charging), remaining, full and nominal
 *		0.01 Ah, the cycle capacity, cycles, the balancing cells (u32),
 *		the FET word (bit 2 charge, bit 3 discharge), the protection
 *		word (alarm bytes 0..1), SOH;
 *	0x02	the cell count, the cells in mV;
 *	0x03	the sensor count, the sensors in 0.1 K;
 *	0xF4	the program version 2.3.1;
 *	0x0B	the pack serial "CER2410-018-030-023";
 *	0x04 .. 0x07 the BMS's own settings, the levels of the KS-48200 of
 *		syssi's logs (balancing from 3.45 V at 0.3 V; cell 3.65 / 2.5 V,
 *		pack 58.4 / 40 V; 55 / -1 °C charging, 60 / -20 °C
 *		discharging; 215 A), not answered with the pack option
 *		nosettings=1 (firmware that does not know them);
 * anything else (history 0x08, a write with a length of 2) is counted as
 * a bad request.  The fault `badsum` spoils
 * the end byte (the frame has no checksum).  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#define KS_REQ 4
#define KS_MAX_CELLS 32
#define KS_MAX_TEMPS 8

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int ks_ncells(const struct sim_pack *p)
{
	return p->ncells < KS_MAX_CELLS ? p->ncells : KS_MAX_CELLS;
}

static int ks_ntemps(const struct sim_pack *p)
{
	return p->ntemps < KS_MAX_TEMPS ? p->ntemps : KS_MAX_TEMPS;
}

static long ks_cv(const struct sim_pack *p) /* 0.01 V */
{
	long mv = 0;
	for (int i = 0; i < ks_ncells(p); i++)
		mv += sim_pack_cell_mv(p, i);
	return clampl(lround(mv / 10.0), 0, 0xFFFF);
}

static long ks_ca(const struct sim_pack *p) /* 0.01 A */
{
	return clampl(lround(p->current * 100.0), -0x8000, 0x7FFF);
}

static long ks_ah(double ah) /* 0.01 Ah */
{
	return clampl(lround(ah * 100.0), 0, 0xFFFF);
}

static int ks_soc(const struct sim_pack *p)
{
	return (int)clampl(lround(p->soc), 0, 100);
}

static uint32_t ks_bal(const struct sim_pack *p)
{
	int n = ks_ncells(p);
	return (uint32_t)(p->balance & (n >= 32 ? 0xFFFFFFFFull : (1ull << n) - 1));
}

static void ks_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_SOH | SIM_HAS_MOS_TEMP |
		 SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCING;
	v->address = p->address;
	v->voltage = ks_cv(p) / 100.0;
	v->current = ks_ca(p) / 100.0;
	v->soc = ks_soc(p);
	v->soh = (double)clampl(lround(p->soh), 0, 100);
	v->capacity_ah = ks_ah(p->capacity_ah) / 100.0;
	v->remaining_ah = ks_ah(p->capacity_ah * p->soc / 100.0) / 100.0;
	v->cycles = p->cycles & 0xFFFFu;
	v->mos_temp_c = p->mos_temp_c;
	v->ncells = ks_ncells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	v->ntemps = ks_ntemps(p);
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->balancing = ks_bal(p) != 0;
	v->nalarm = 2;
	v->alarm[0] = p->alarm[0];
	v->alarm[1] = p->alarm[1];
}

static void put16(uint8_t *f, long v)
{
	f[0] = (uint8_t)((unsigned long)v >> 8);
	f[1] = (uint8_t)v;
}

/* Frame data d[0..n) as the answer to cmd. */
static void ks_add(struct sim_reply *reply, uint8_t cmd, const uint8_t *d, size_t n)
{
	uint8_t f[255 + 4];
	f[0] = 0x7B;
	f[1] = cmd;
	f[2] = (uint8_t)n;
	memcpy(f + 3, d, n);
	f[n + 3] = 0x7D;
	sim_reply_add(reply, f, n + 4);
}

static void ks_status(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[32] = { 0 };
	uint32_t bal = ks_bal(p);
	int t0 = ks_ntemps(p) ? p->temp_c[0] : 25;
	put16(d, ks_soc(p));
	put16(d + 2, ks_cv(p));
	put16(d + 4, t0 * 10);
	put16(d + 6, t0 * 10);
	put16(d + 8, clampl(p->mos_temp_c * 10L, -0x8000, 0x7FFF));
	put16(d + 10, ks_ca(p));
	put16(d + 12, ks_ah(p->capacity_ah * p->soc / 100.0));
	put16(d + 14, ks_ah(p->capacity_ah));
	put16(d + 16, ks_ah(p->capacity_ah));
	put16(d + 20, (long)(p->cycles & 0xFFFFu));
	put16(d + 22, (long)(bal >> 16));
	put16(d + 24, (long)(bal & 0xFFFFu));
	put16(d + 26, (p->chg_mos ? 0x04 : 0) | (p->dsg_mos ? 0x08 : 0));
	d[28] = p->alarm[1];
	d[29] = p->alarm[0];
	put16(d + 30, clampl(lround(p->soh), 0, 100));
	ks_add(reply, 0x01, d, sizeof d);
}

static void ks_cells(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[1 + 2 * KS_MAX_CELLS];
	int n = ks_ncells(p);
	d[0] = (uint8_t)n;
	for (int i = 0; i < n; i++)
		put16(d + 1 + 2 * i, sim_pack_cell_mv(p, i));
	ks_add(reply, 0x02, d, 1 + 2 * (size_t)n);
}

static void ks_temps(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[1 + 2 * KS_MAX_TEMPS];
	int n = ks_ntemps(p);
	d[0] = (uint8_t)n;
	for (int i = 0; i < n; i++)
		put16(d + 1 + 2 * i, clampl(p->temp_c[i] * 10L + 2731, 0, 0xFFFF));
	ks_add(reply, 0x03, d, 1 + 2 * (size_t)n);
}

/* The settings reads 0x04 .. 0x07 (bms/PROTOCOLS.md §54.4): twelve (0x04:
 * ten, 0x07: six) big-endian words each; 0.1 K temperatures, ms delays. */
static void ks_settings(uint8_t cmd, struct sim_reply *reply)
{
	static const uint16_t basic[] = { 3500, 2500, 3450, 300, 0, 0, 0, 0, 0, 0 };
	static const uint16_t volt[] = { 3650, 3380, 2000, 2500, 3000, 3000, 5840, 5440, 3000, 4000, 4800, 3000 };
	static const uint16_t temp[] = { 2731 + 550, 2731 + 500, 3000, 2731 - 10, 2731 + 50, 3000,
					 2731 + 600, 2731 + 550, 3000, 2731 - 200, 2731 - 150, 3000 };
	static const uint16_t cur[] = { 21500, 3000, 0, 21500, 3000, 0 };
	const uint16_t *w = cmd == 0x04 ? basic : cmd == 0x05 ? volt : cmd == 0x06 ? temp : cur;
	size_t n = cmd == 0x04 ? 10 : cmd == 0x07 ? 6 : 12;
	uint8_t d[24];
	for (size_t i = 0; i < n; i++)
		put16(d + 2 * i, w[i]);
	ks_add(reply, cmd, d, 2 * n);
}

static enum sim_scan ks_scan(const uint8_t *buf, size_t len, size_t *n)
{
	if (len == 0)
		return SIM_SCAN_NEED;
	if (buf[0] != 0x7B) {
		size_t i = 1;
		while (i < len && buf[i] != 0x7B)
			i++;
		*n = i;
		return SIM_SCAN_SKIP;
	}
	if (len < 3)
		return SIM_SCAN_NEED;
	size_t want = (size_t)buf[2] + 4;
	if (len < want)
		return SIM_SCAN_NEED;
	*n = buf[want - 1] == 0x7D ? want : 1;
	return buf[want - 1] == 0x7D ? SIM_SCAN_FRAME : SIM_SCAN_BAD;
}

static int ks_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp ks_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t version[] = { 2, 3, 1 };
	static const uint8_t serial[] = "CER2410-018-030-023";
	if (n != KS_REQ || req[2] != 0)
		return SIM_RESP_BAD;
	switch (req[1]) {
	case 0xF4:
		ks_add(reply, 0xF4, version, sizeof version);
		return SIM_RESP_OK;
	case 0x0B:
		ks_add(reply, 0x0B, serial, sizeof serial - 1);
		return SIM_RESP_OK;
	case 0x01:
		ks_status(p, reply);
		return SIM_RESP_OK;
	case 0x02:
		ks_cells(p, reply);
		return SIM_RESP_OK;
	case 0x03:
		ks_temps(p, reply);
		return SIM_RESP_OK;
	case 0x04:
	case 0x05:
	case 0x06:
	case 0x07:
		if (p->dialect == 'N')
			return SIM_RESP_NONE; /* `nosettings`: firmware that does not know them */
		ks_settings(req[1], reply);
		return SIM_RESP_OK;
	default:
		return SIM_RESP_BAD;
	}
}

const struct sim_proto sim_proto_ks48 = {
	.name = "ks48",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = KS_MAX_CELLS,
	.max_temps = KS_MAX_TEMPS,
	.scan = ks_scan,
	.address = ks_address,
	.respond = ks_respond,
	.view = ks_view,
};
