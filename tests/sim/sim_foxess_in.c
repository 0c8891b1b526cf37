/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_foxess_in.c - a FoxESS HV2600 / ECS battery and its
 * H-series inverter on their bus, as an slcan adapter on that bus delivers
 * them (bms/PROTOCOLS.md §95).
 *
 * Every 200 ms while the channel is open, 29-bit ids, little-endian: the
 * inverter's poll 0x1871, then the battery's answer:
 *	0x1872 cvl, dvl 0.1 V, ccl, dcl 0.1 A
 *	0x1873 pack voltage 0.1 V (the cells' sum), current s16 0.1 A, SOC %,
 *	      kWh remaining
 *	0x1874 the highest and lowest sensor s16 0.1 degC
 *	0x1875 the contactor closed, cycles
 *	0x1876 the highest and lowest cell mV
 *	0x1879 the flags: operational, charging or discharging by the current
 *	0x0C1D + 4k the cells four a frame; 0x0D21 + 8k the sensors eight a
 *	      frame (+ 50): sixteen, the pack's in turn
 * cells=N (default 96, six 16-cell modules).  hvbad=1: 0x1873 and 0x1879 a
 * byte short.  Encoded here; bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define FX_CELLS 144
#define FX_DEFAULT 96
#define FX_SENSORS 16

static void fx_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, FX_CELLS);
	v->voltage = sim_hv_clamp(lround(v->voltage * 10), 0, 65535) / 10.0;
	v->current = sim_hv_clamp(lround(p->current * 10), -32767, 32767) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc), 0, 100);
	v->cycles = p->cycles;
	v->ccl_a = sim_hv_clamp(lround(p->ccl_a * 10), 0, 65535) / 10.0;
	v->dcl_a = sim_hv_clamp(lround(p->dcl_a * 10), 0, 65535) / 10.0;
	v->cvl_v = sim_hv_clamp(lround(p->cvl_v * 10), 0, 65535) / 10.0;
	v->dvl_v = sim_hv_clamp(lround(p->dvl_v * 10), 0, 65535) / 10.0;
	sim_hv_extremes(v);
	v->ntemps = FX_SENSORS;
	int hi = -100, lo = 1000;
	for (int i = 0; i < FX_SENSORS; i++) {
		v->temp_c[i] = p->temp_c[i % (p->ntemps > 0 ? p->ntemps : 1)];
		hi = v->temp_c[i] > hi ? v->temp_c[i] : hi;
		lo = v->temp_c[i] < lo ? v->temp_c[i] : lo;
	}
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->chg_mos = v->dsg_mos = 1;
	v->has = SIM_HAS_SOC | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT |
		 SIM_HAS_MOSFETS | SIM_HAS_ALARMS | SIM_HAS_CUR_LIMITS | SIM_HAS_VOLT_LIMITS;
}

static void fx_status(const struct sim_pack *p, const struct sim_view *v, struct sim_reply *reply)
{
	uint8_t d[8] = { 0 };
	int n = p->hv_bad ? 7 : 8;
	sim_slcan_put16(d, lround(v->cvl_v * 10));
	sim_slcan_put16(d + 2, lround(v->dvl_v * 10));
	sim_slcan_put16(d + 4, lround(v->ccl_a * 10));
	sim_slcan_put16(d + 6, lround(v->dcl_a * 10));
	sim_slcan_line(reply, 'T', 0x1872, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, lround(v->voltage * 10));
	sim_slcan_put16(d + 2, lround(v->current * 10));
	d[4] = (uint8_t)v->soc;
	sim_slcan_put16(d + 6, lround(v->voltage * p->capacity_ah * v->soc / 1000.0));
	sim_slcan_line(reply, 'T', 0x1873, d, n);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, (long)v->tmax_c * 10);
	sim_slcan_put16(d + 2, (long)v->tmin_c * 10);
	sim_slcan_put16(d + 4, 3200);
	sim_slcan_put16(d + 6, 3200);
	sim_slcan_line(reply, 'T', 0x1874, d, 8);
	memset(d, 0, sizeof d);
	d[2] = 0xFF;
	d[3] = (uint8_t)((v->ncells + 15) / 16);
	d[4] = 1; /* the contactor */
	sim_slcan_put16(d + 6, (long)v->cycles);
	sim_slcan_line(reply, 'T', 0x1875, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d + 2, v->cell_max_mv);
	sim_slcan_put16(d + 6, v->cell_min_mv);
	sim_slcan_line(reply, 'T', 0x1876, d, 8);
	memset(d, 0, sizeof d);
	d[1] = (uint8_t)(0x20 | (v->current > 0 ? 0x10 | 0x05 : v->current < 0 ? 0x08 | 0x03 : 0x04));
	sim_slcan_line(reply, 'T', 0x1879, d, n);
}

static enum sim_resp fx_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0x01, 0x00, 0x01 };
	if (!p->can_open)
		return SIM_RESP_NONE;
	fx_view(p, &v);
	sim_slcan_line(reply, 'T', 0x1871, d, 8); /* the inverter's poll */
	fx_status(p, &v, reply);
	for (int k = 0; 4 * k < v.ncells; k++) {
		memset(d, 0, sizeof d);
		for (int i = 0; i < 4; i++)
			sim_slcan_put16(d + 2 * i, 4 * k + i < v.ncells ? v.cell_mv[4 * k + i] : 0);
		sim_slcan_line(reply, 'T', (unsigned)(0x0C1D + 4 * k), d, 8);
	}
	for (int k = 0; k < FX_SENSORS / 8; k++) {
		for (int i = 0; i < 8; i++)
			d[i] = (uint8_t)sim_hv_clamp(v.temp_c[8 * k + i] + 50, 1, 254);
		sim_slcan_line(reply, 'T', (unsigned)(0x0D21 + 8 * k), d, 8);
	}
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_foxess_in = {
	.name = "foxess-in",
	.default_baud = 115200,
	.max_cells = FX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = fx_view,
	.corrupt = sim_slcan_corrupt,
	.emit = fx_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = FX_DEFAULT,
};
