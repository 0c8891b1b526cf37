/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_mg_zs.c - an MG ZS EV (gen 1) pack on its CAN bus, as an
 * slcan adapter on that bus delivers it (bms/PROTOCOLS.md §89).
 *
 * Every 200 ms while the channel is open, 11-bit ids, big-endian:
 *	0x3AC SOC u16 0.1 %, pack voltage 12 bits 0.25 V (the cells' sum),
 *	      current u16 20000 - A x 20; and its second bus's copy with
 *	      the SOC alone (voltage and current 0)
 *	0x173 the highest and lowest cell u16 mV
 *	0x2A2 the highest and lowest sensor (t + 40) x 500 / 256
 *	0x297 b1 3: connected
 * hvbad=1: 0x3AC and 0x173 a byte short.  Encoded here; bms/ is
 * deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define MG_CELLS 96

/* A temperature as 0x2A2 carries it, and back. */
static long mg_traw(int t)
{
	return sim_hv_clamp(lround((t + 40) * 500.0 / 256.0), 0, 0xFD);
}

static void mg_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sim_view all;
	sim_hv_view(p, &all, MG_CELLS);
	sim_hv_extremes(&all);
	sim_hv_view(p, v, 0); /* no cell list on the bus */
	v->voltage = sim_hv_clamp(lround(all.voltage * 4), 1, 2399) * 0.25;
	v->current = -(sim_hv_clamp(lround(20000 - p->current * 20), 16001, 23999) - 20000) / 20.0;
	v->soc = sim_hv_clamp(lround(p->soc * 10), 0, 1000) / 10.0;
	v->cell_max_mv = all.cell_max_mv;
	v->cell_min_mv = all.cell_min_mv;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->tmax_c = mg_traw(hi) * 256.0 / 500.0 - 40;
	v->tmin_c = mg_traw(lo) * 256.0 / 500.0 - 40;
	v->has = SIM_HAS_SOC | SIM_HAS_CELL_EXT | SIM_HAS_TEMP_EXT | SIM_HAS_MOSFETS | SIM_HAS_ALARMS;
	v->chg_mos = v->dsg_mos = 1;
}

static enum sim_resp mg_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	if (!p->can_open)
		return SIM_RESP_NONE;
	mg_view(p, &v);
	long soc = lround(v.soc * 10), u = lround(v.voltage * 4), i = lround(20000 - v.current * 20);
	sim_hv_be16(d + 2, soc);
	d[4] = (uint8_t)((u >> 8) & 0x0F);
	d[5] = (uint8_t)(u & 0xFF);
	sim_hv_be16(d + 6, i);
	sim_slcan_line(reply, 't', 0x3AC, d, p->hv_bad ? 7 : 8);
	memset(d, 0, sizeof d);
	sim_hv_be16(d + 2, soc);
	sim_slcan_line(reply, 't', 0x3AC, d, 8); /* the second bus's copy: the SOC alone */
	memset(d, 0, sizeof d);
	sim_hv_be16(d + 4, v.cell_max_mv);
	sim_hv_be16(d + 6, v.cell_min_mv);
	sim_slcan_line(reply, 't', 0x173, d, p->hv_bad ? 7 : 8);
	memset(d, 0, sizeof d);
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	d[0] = (uint8_t)mg_traw(hi);
	d[5] = (uint8_t)mg_traw(lo);
	sim_slcan_line(reply, 't', 0x2A2, d, 8);
	memset(d, 0, sizeof d);
	d[1] = 3;
	sim_slcan_line(reply, 't', 0x297, d, 8);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_mg_zs = {
	.name = "mg-zs",
	.default_baud = 115200,
	.max_cells = MG_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = mg_view,
	.corrupt = sim_slcan_corrupt,
	.emit = mg_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = MG_CELLS,
};
