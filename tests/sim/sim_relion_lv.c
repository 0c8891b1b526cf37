/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_relion_lv.c - a RELiON 48 V LFP battery on its CAN bus,
 * as an slcan adapter on that bus delivers it (bms/PROTOCOLS.md §98).
 *
 * Every 500 ms while the channel is open, 29-bit ids 0x02XX8100,
 * big-endian:
 *	0x02018100 pack voltage 0.1 V (the cells' sum)
 *	0x02028100 current s16 0.1 A (+ = discharging on this bus), state 0,
 *	           SOC %, SOH %, fault 0x10 (as the example frame)
 *	0x02038100 the highest and lowest cell mV with their module and cell
 *	0x02048100 the highest and lowest sensor degC + 50 with positions
 *	0x02108100 + 0x10000 k  the cells, four a frame
 * cells=N (default 16, at most 192).  hvbad=1: the voltage and the first
 * cell frame a byte short.  Encoded here; bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define RL_CELLS 192
#define RL_DEFAULT 16

static void rl_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, RL_CELLS);
	v->voltage = sim_hv_clamp(lround(v->voltage * 10), 0, 65535) / 10.0;
	v->current = -sim_hv_clamp(lround(-p->current * 10), -32767, 32767) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc), 0, 100);
	v->soh = sim_hv_clamp(lround(p->soh), 1, 100);
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = hi;
	v->temp_c[1] = lo;
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_ALARMS;
}

static void be16(uint8_t *d, long v)
{
	d[0] = (uint8_t)((v >> 8) & 0xFF);
	d[1] = (uint8_t)(v & 0xFF);
}

static enum sim_resp rl_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0x10, 0x08 };
	int n = p->hv_bad ? 7 : 8;
	if (!p->can_open)
		return SIM_RESP_NONE;
	rl_view(p, &v);
	be16(d + 2, lround(v.voltage * 10));
	sim_slcan_line(reply, 'T', 0x02018100, d, n);
	memset(d, 0, sizeof d);
	be16(d, lround(-v.current * 10) & 0xFFFF);
	d[3] = (uint8_t)v.soc;
	d[4] = (uint8_t)v.soh;
	d[5] = 0x10;
	sim_slcan_line(reply, 'T', 0x02028100, d, 8);
	int hi = 0, lo = 0;
	for (int i = 1; i < v.ncells; i++) {
		hi = v.cell_mv[i] > v.cell_mv[hi] ? i : hi;
		lo = v.cell_mv[i] < v.cell_mv[lo] ? i : lo;
	}
	memset(d, 0, sizeof d);
	be16(d, v.ncells ? v.cell_mv[hi] : 0);
	d[2] = (uint8_t)(hi / 16 + 1);
	d[3] = (uint8_t)(hi % 16 + 1);
	be16(d + 4, v.ncells ? v.cell_mv[lo] : 0);
	d[6] = (uint8_t)(lo / 16 + 1);
	d[7] = (uint8_t)(lo % 16 + 1);
	sim_slcan_line(reply, 'T', 0x02038100, d, 8);
	memset(d, 0, sizeof d);
	d[0] = (uint8_t)sim_hv_clamp((long)v.tmax_c + 50, 0, 255);
	d[1] = d[2] = 1;
	d[3] = (uint8_t)sim_hv_clamp((long)v.tmin_c + 50, 0, 255);
	d[4] = d[5] = 1;
	sim_slcan_line(reply, 'T', 0x02048100, d, 8);
	for (int k = 0; 4 * k < v.ncells; k++) {
		memset(d, 0, sizeof d);
		for (int i = 0; i < 4; i++)
			be16(d + 2 * i, 4 * k + i < v.ncells ? v.cell_mv[4 * k + i] : 0);
		sim_slcan_line(reply, 'T', 0x02108100u + 0x10000u * (unsigned)k, d, k == 0 ? n : 8);
	}
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_relion_lv = {
	.name = "relion-lv",
	.default_baud = 115200,
	.max_cells = RL_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = rl_view,
	.corrupt = sim_slcan_corrupt,
	.emit = rl_emit,
	.emit_ms = 500,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = RL_DEFAULT,
};
