/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_tesla_model3.c - a Tesla Model 3 / Y pack on its CAN bus,
 * as an slcan adapter on that bus delivers it (bms/PROTOCOLS.md §86).
 *
 * Every 200 ms while the channel is open, 11-bit ids, little-endian:
 *	0x132 pack voltage u16 0.01 V (the bricks' sum), smoothed current
 *	      s16 0.1 A (+ = charging, the DBC's -0.1 factor), raw current
 *	0x292 SOCmin, SOCUI (the pack's SOC), SOCmax, SOCave 10 bits 0.1 %
 *	0x332 mux 1: the highest and lowest brick rounded down to 2 mV,
 *	      their numbers; mux 0: the highest and lowest
 *	      sensor (0.5 degC - 40)
 *	0x401 the bricks, three a frame (mux 0 .. cells / 3), 0.1 mV
 *	0x20A both contactors pulled in (4), the interlock fine (1)
 * cells=N: N bricks (default 108).  hvbad=1: every frame a byte short of
 * its layout.  Encoded here; bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define T3_CELLS 108

static void t3_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, T3_CELLS);
	long sum = 0;
	for (int i = 0; i < v->ncells; i++)
		sum += v->cell_mv[i];
	v->voltage = sim_hv_clamp(lround(sum / 10.0), 0, 65535) / 100.0;
	v->current = sim_hv_clamp(lround(p->current * 10), -32768, 32767) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc * 10), 0, 1000) / 10.0;
	v->has = SIM_HAS_SOC | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_MOSFETS |
		 SIM_HAS_ALARMS;
	sim_hv_extremes(v);
	v->cell_max_mv = v->cell_max_mv / 2 * 2;
	v->cell_min_mv = v->cell_min_mv / 2 * 2;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = hi;
	v->temp_c[1] = lo;
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->chg_mos = v->dsg_mos = 1;
}

static void t3_line(const struct sim_pack *p, struct sim_reply *reply, unsigned id, const uint8_t *d, int dlc)
{
	sim_slcan_line(reply, 't', id, d, p->hv_bad ? dlc - 1 : dlc);
}

static void t3_332(const struct sim_pack *p, const struct sim_view *v, struct sim_reply *reply)
{
	uint8_t d[8] = { 0 };
	int at_hi = 1, at_lo = 1;
	for (int i = 0; i < v->ncells; i++) {
		at_hi = v->cell_mv[i] > v->cell_mv[at_hi - 1] ? i + 1 : at_hi;
		at_lo = v->cell_mv[i] < v->cell_mv[at_lo - 1] ? i + 1 : at_lo;
	}
	unsigned hi = (unsigned)v->cell_max_mv / 2, lo = (unsigned)v->cell_min_mv / 2;
	d[0] = (uint8_t)(1 | (hi & 0x3F) << 2);
	d[1] = (uint8_t)(hi >> 6);
	d[2] = (uint8_t)(lo & 0xFF);
	d[3] = (uint8_t)(lo >> 8);
	d[4] = (uint8_t)(at_hi - 1);
	d[5] = (uint8_t)(at_lo - 1);
	t3_line(p, reply, 0x332, d, 6);
	memset(d, 0, sizeof d);
	d[2] = (uint8_t)sim_hv_clamp(lround((v->tmax_c + 40) * 2), 0, 255);
	d[3] = (uint8_t)sim_hv_clamp(lround((v->tmin_c + 40) * 2), 0, 255);
	t3_line(p, reply, 0x332, d, 6);
}

static enum sim_resp t3_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	if (!p->can_open)
		return SIM_RESP_NONE;
	t3_view(p, &v);
	sim_slcan_put16(d, lround(v.voltage * 100));
	sim_slcan_put16(d + 2, lround(v.current * 10));
	sim_slcan_put16(d + 4, lround(10000 - v.current * 20)); /* raw: -0.05 A, offset 500 */
	t3_line(p, reply, 0x132, d, 8);
	unsigned long soc = (unsigned long)lround(v.soc * 10), lo = soc > 5 ? soc - 5 : 0;
	unsigned long long w = lo | soc << 10 | (soc + 5 > 1000 ? 1000 : soc + 5) << 20 | (unsigned long long)soc << 30;
	for (int i = 0; i < 8; i++)
		d[i] = (uint8_t)(w >> (8 * i));
	t3_line(p, reply, 0x292, d, 8);
	t3_332(p, &v, reply);
	for (int m = 0; 3 * m < v.ncells; m++) {
		memset(d, 0, sizeof d);
		d[0] = (uint8_t)m;
		for (int k = 0; k < 3; k++)
			sim_slcan_put16(d + 2 + 2 * k, 3 * m + k < v.ncells ? v.cell_mv[3 * m + k] * 10L : 0);
		t3_line(p, reply, 0x401, d, 8);
	}
	memset(d, 0, sizeof d);
	d[0] = 4 | 4 << 3; /* both contactors pulled in */
	d[5] = 1;          /* the interlock fine */
	t3_line(p, reply, 0x20A, d, 6);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_tesla_model3 = {
	.name = "tesla-model3",
	.default_baud = 115200,
	.max_cells = T3_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = t3_view,
	.corrupt = sim_slcan_corrupt,
	.emit = t3_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = T3_CELLS,
};
