/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_jk_can.c - a JK BMS (JK-PB CAN V2) on its CAN port, as a
 * Lawicel slcan adapter on that bus delivers it to a host (bms/PROTOCOLS.md
 * §40).  The adapter side: sim_slcan.c.
 *
 * The battery side, once a second while the channel is open, one line per
 * frame, DLC 8, little endian, at DIP address 0:
 *	0x2F4 voltage 0.1 V, current 0.1 A + 4000 (+ = charging), SOC %
 *	0x4F4 the highest cell mV, its number, the lowest mV, its number
 *	0x5F4 max temperature + 50, its sensor, min + 50, its sensor, avg + 50
 *	0x7F4 alarm bytes 0-3 as they are (2-bit fields)
 *	0x18F128F4 remaining 0.1 Ah, capacity 0.1 Ah, 0, cycles
 *	0x18F228F4 sensors (up to 4), probe 1, probe 2, MOSFET + 50, probe 3,
 *	      probe 4 (+ 50; 0 = no probe)
 *	0x18F528F4 b0 charge MOSFET, b1 discharge MOSFET, b2 balancing (any
 *	      balance bit)
 *	0x18E028F4 ... cells 1-4, 5-8 ... (up to 24), 0 beyond the count
 * `dialect v1` (JK-B CAN V1): 0x2F4, 0x4F4 (highest / lowest cell), 0x5F4
 * and 0x7F4 only.  junk=1 adds frames the decoder must pass over: JK's
 * charge request 0x1806E5F4, another node's 0x01F21400, a remote frame of
 * 0x2F4.  Faults apply to what the battery
 * sends.  Encoded here; bms/ is deliberately not used.
 */
#include "sim_slcan.h"

#include <math.h>
#include <string.h>

#define JK_MAX_CELLS 24
#define JK_MAX_TEMPS 4

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int jk_cells(const struct sim_pack *p)
{
	return p->ncells < JK_MAX_CELLS ? p->ncells : JK_MAX_CELLS;
}

static int jk_temps(const struct sim_pack *p)
{
	return p->ntemps < JK_MAX_TEMPS ? p->ntemps : JK_MAX_TEMPS;
}

static long jk_dv(const struct sim_pack *p)
{
	long sum = 0;
	for (int i = 0; i < jk_cells(p); i++)
		sum += sim_pack_cell_mv(p, i);
	return clampl(lround(sum / 100.0), 1, 0xFFFF);
}

static long jk_t(int c)
{
	return clampl(c + 50L, 1, 255);
}

/* The highest and the lowest sensor (0x5F4). */
static void jk_minmax(const struct sim_pack *p, int *hi, int *lo)
{
	*hi = *lo = p->temp_c[0];
	for (int i = 1; i < jk_temps(p); i++) {
		*hi = p->temp_c[i] > *hi ? p->temp_c[i] : *hi;
		*lo = p->temp_c[i] < *lo ? p->temp_c[i] : *lo;
	}
}

/* 0x4F4: the highest and lowest cell and their numbers (the first of
 * equals), in v's extremes. */
static void jk_cellx(const struct sim_pack *p, struct sim_view *v)
{
	v->cell_max_mv = v->cell_min_mv = sim_pack_cell_mv(p, 0);
	v->cell_max_at = v->cell_min_at = 1;
	for (int i = 1; i < jk_cells(p); i++) {
		int mv = sim_pack_cell_mv(p, i);
		if (mv > v->cell_max_mv)
			v->cell_max_mv = mv, v->cell_max_at = i + 1;
		if (mv < v->cell_min_mv)
			v->cell_min_mv = mv, v->cell_min_at = i + 1;
	}
}

static void jk_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = jk_dv(p) / 10.0;
	v->current = (clampl(lround(p->current * 10.0) + 4000, 0, 0xFFFF) - 4000) / 10.0;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->nalarm = 4;
	memcpy(v->alarm, p->alarm, 4);
	int hi, lo;
	jk_minmax(p, &hi, &lo);
	v->has |= SIM_HAS_TEMP_EXT;
	v->tmax_c = (double)(jk_t(hi) - 50);
	v->tmin_c = (double)(jk_t(lo) - 50);
	if (p->dialect == 1) {
		v->ntemps = 2;
		v->temp_c[0] = (int)(jk_t(hi) - 50);
		v->temp_c[1] = (int)(jk_t(lo) - 50);
		v->has |= SIM_HAS_CELL_EXT; /* no cell frames: 0x4F4's */
		jk_cellx(p, v);
		return;
	}
	v->has |= SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP | SIM_HAS_MOSFETS |
		  SIM_HAS_CELLS | SIM_HAS_BALANCING;
	long full = clampl(lround(p->capacity_ah * 10.0), 1, 0xFFFF);
	v->capacity_ah = full / 10.0;
	v->remaining_ah = clampl(lround(p->capacity_ah * p->soc / 10.0), 0, full) / 10.0;
	v->cycles = p->cycles & 0xFFFF;
	v->mos_temp_c = (double)(jk_t(p->mos_temp_c) - 50);
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->balancing = p->balance != 0;
	v->ncells = jk_cells(p);
	for (int i = 0; i < v->ncells; i++)
		v->cell_mv[i] = sim_pack_cell_mv(p, i);
	v->ntemps = jk_temps(p);
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = (int)(jk_t(p->temp_c[i]) - 50);
}

static void jk_junk(struct sim_reply *reply)
{
	static const uint8_t other[8] = { 0xC7, 0x14, 0x12, 0x00, 0xE4, 0x00, 0x23, 0x00 };
	sim_slcan_line(reply, 'T', 0x1806E5F4, other, 8);
	sim_slcan_line(reply, 'T', 0x01F21400, other, 8);
	sim_slcan_line(reply, 'r', 0x2F4, NULL, 8);
}

static void jk_v2(const struct sim_pack *p, const struct sim_view *v, struct sim_reply *reply)
{
	uint8_t d[8];
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, lround(v->remaining_ah * 10.0));
	sim_slcan_put16(d + 2, lround(v->capacity_ah * 10.0));
	sim_slcan_put16(d + 6, v->cycles);
	sim_slcan_line(reply, 'T', 0x18F128F4, d, 8);
	memset(d, 0, sizeof d);
	static const int at[JK_MAX_TEMPS] = { 1, 2, 4, 5 };
	d[0] = (uint8_t)v->ntemps;
	for (int i = 0; i < v->ntemps; i++)
		d[at[i]] = (uint8_t)jk_t(v->temp_c[i]);
	d[3] = (uint8_t)jk_t(p->mos_temp_c);
	sim_slcan_line(reply, 'T', 0x18F228F4, d, 8);
	memset(d, 0, sizeof d);
	d[0] = (uint8_t)((v->chg_mos ? 1 : 0) | (v->dsg_mos ? 2 : 0) | (v->balancing ? 4 : 0));
	sim_slcan_line(reply, 'T', 0x18F528F4, d, 8);
	for (int f = 0; f * 4 < v->ncells; f++) {
		memset(d, 0, sizeof d);
		for (int i = 0; i < 4 && f * 4 + i < v->ncells; i++)
			sim_slcan_put16(d + 2 * i, v->cell_mv[f * 4 + i]);
		sim_slcan_line(reply, 'T', 0x18E028F4u + ((unsigned)f << 16), d, 8);
	}
}

static enum sim_resp jk_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8];
	if (!p->can_open)
		return SIM_RESP_NONE; /* the adapter's channel is closed: nothing reaches the host */
	jk_view(p, &v);
	if (p->junk)
		jk_junk(reply);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, lround(v.voltage * 10.0));
	sim_slcan_put16(d + 2, lround(v.current * 10.0) + 4000);
	d[4] = (uint8_t)lround(v.soc);
	sim_slcan_line(reply, 't', 0x2F4, d, 8);
	struct sim_view x;
	memset(&x, 0, sizeof x);
	jk_cellx(p, &x);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, x.cell_max_mv);
	d[2] = (uint8_t)x.cell_max_at;
	sim_slcan_put16(d + 3, x.cell_min_mv);
	d[5] = (uint8_t)x.cell_min_at;
	sim_slcan_line(reply, 't', 0x4F4, d, 8);
	memset(d, 0, sizeof d);
	int hi, lo;
	jk_minmax(p, &hi, &lo);
	d[0] = (uint8_t)jk_t(hi);
	d[1] = 1;
	d[2] = (uint8_t)jk_t(lo);
	d[3] = 2;
	d[4] = (uint8_t)jk_t((hi + lo) / 2);
	sim_slcan_line(reply, 't', 0x5F4, d, 8);
	memset(d, 0, sizeof d);
	memcpy(d, p->alarm, 4);
	sim_slcan_line(reply, 't', 0x7F4, d, 8);
	if (p->dialect != 1)
		jk_v2(p, &v, reply);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_jk_can = {
	.name = "jk-can",
	.default_baud = 115200, /* the adapter's serial line */
	.addr_min = 0,
	.addr_max = 0, /* the BMS at DIP address 0 */
	.max_cells = JK_MAX_CELLS,
	.max_temps = JK_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = jk_view,
	.corrupt = sim_slcan_corrupt,
	.emit = jk_emit,
	.emit_ms = 1000,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
};
