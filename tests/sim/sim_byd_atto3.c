/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_byd_atto3.c - a BYD Atto 3 (Blade) pack on its CAN bus,
 * as an slcan adapter on that bus delivers it (bms/PROTOCOLS.md §90).
 *
 * Every 200 ms while the channel is open, 11-bit ids; b7 = NOT(the sum of
 * b0-b6) on 0x444, 0x438, 0x447:
 *	0x444 pack voltage whole volts (12 bits), current (u16 LE) 0.1 A +
 *	      5000, SOH, SOC whole %
 *	0x438 pack voltage u16 LE b5-b6 0.1 V (the cells' sum)
 *	0x447 the coldest and hottest sensor (numbers, + 40), SOC 12 bits
 *	      0.1 %, the mean
 *	0x446 the lowest and highest cell, their numbers
 *	0x43D the cells three a frame, 12 bits mV (0xFFF past the last)
 *	0x43C the modules' twelve temperatures (+ 40), mux 0 and 1
 * cells=N (default 126).  hvbad=1: every check byte wrong.  Encoded here;
 * bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define BY_CELLS 126
#define BY_TEMPS 12

static void by_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, BY_CELLS);
	v->voltage = sim_hv_clamp(lround(v->voltage * 10), 0, 65535) / 10.0;
	v->current = (sim_hv_clamp(lround(p->current * 10) + 5000, 0, 65535) - 5000) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc * 10), 0, 1000) / 10.0;
	v->soh = sim_hv_clamp(lround(p->soh), 0, 100);
	sim_hv_extremes(v);
	v->ntemps = BY_TEMPS;
	int hi = -100, lo = 1000;
	for (int i = 0; i < BY_TEMPS; i++) {
		v->temp_c[i] = p->temp_c[i % (p->ntemps > 0 ? p->ntemps : 1)];
		hi = v->temp_c[i] > hi ? v->temp_c[i] : hi;
		lo = v->temp_c[i] < lo ? v->temp_c[i] : lo;
	}
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT;
}

static void by_sum(const struct sim_pack *p, uint8_t *d)
{
	unsigned s = 0;
	for (int i = 0; i < 7; i++)
		s += d[i];
	d[7] = (uint8_t)(~s ^ (p->hv_bad ? 1u : 0u));
}

static void by_cells(const struct sim_view *v, struct sim_reply *reply)
{
	for (int f = 0; 3 * f < v->ncells; f++) {
		uint8_t d[8] = { (uint8_t)f };
		for (int i = 0; i < 3; i++) {
			int mv = 3 * f + i < v->ncells ? v->cell_mv[3 * f + i] : 0xFFF;
			d[2 * i + 1] = (uint8_t)(mv & 0xFF);
			d[2 * i + 2] = (uint8_t)((mv >> 8) & 0x0F);
		}
		sim_slcan_line(reply, 't', 0x43D, d, 8);
	}
	for (int m = 0; m < 2; m++) {
		uint8_t d[8] = { (uint8_t)m };
		for (int i = 0; i < 6; i++)
			d[1 + i] = (uint8_t)sim_hv_clamp(v->temp_c[6 * m + i] + 40, 0, 254);
		sim_slcan_line(reply, 't', 0x43C, d, 8);
	}
}

static enum sim_resp by_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	if (!p->can_open)
		return SIM_RESP_NONE;
	by_view(p, &v);
	long u = lround(v.voltage), i = lround(v.current * 10) + 5000, soc = lround(v.soc * 10);
	d[0] = (uint8_t)(u & 0xFF);
	d[1] = (uint8_t)((u >> 8) & 0x0F);
	sim_slcan_put16(d + 2, i);
	d[4] = (uint8_t)v.soh;
	d[5] = (uint8_t)lround(v.soc);
	by_sum(p, d);
	sim_slcan_line(reply, 't', 0x444, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d + 5, lround(v.voltage * 10));
	by_sum(p, d);
	sim_slcan_line(reply, 't', 0x438, d, 8);
	memset(d, 0, sizeof d);
	d[0] = 1;
	d[1] = (uint8_t)(v.tmin_c + 40);
	d[2] = 2;
	d[3] = (uint8_t)(v.tmax_c + 40);
	d[4] = (uint8_t)(soc & 0xFF);
	d[5] = (uint8_t)((soc >> 8) & 0x0F);
	d[6] = (uint8_t)((v.tmax_c + v.tmin_c) / 2 + 40);
	by_sum(p, d);
	sim_slcan_line(reply, 't', 0x447, d, 8);
	memset(d, 0, sizeof d);
	int at_lo = 1, at_hi = 1;
	for (int k = 0; k < v.ncells; k++) {
		at_lo = v.cell_mv[k] < v.cell_mv[at_lo - 1] ? k + 1 : at_lo;
		at_hi = v.cell_mv[k] > v.cell_mv[at_hi - 1] ? k + 1 : at_hi;
	}
	d[0] = (uint8_t)at_lo;
	d[1] = (uint8_t)(v.cell_min_mv & 0xFF);
	d[2] = (uint8_t)((v.cell_min_mv >> 8) & 0x0F);
	d[4] = (uint8_t)at_hi;
	d[5] = (uint8_t)(v.cell_max_mv & 0xFF);
	d[6] = (uint8_t)((v.cell_max_mv >> 8) & 0x0F);
	sim_slcan_line(reply, 't', 0x446, d, 8);
	by_cells(&v, reply);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_byd_atto3 = {
	.name = "byd-atto3",
	.default_baud = 115200,
	.max_cells = BY_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = by_view,
	.corrupt = sim_slcan_corrupt,
	.emit = by_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = BY_CELLS,
};
