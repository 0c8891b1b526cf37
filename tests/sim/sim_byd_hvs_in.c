/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_byd_hvs_in.c - a BYD Battery-Box Premium HVS on the CAN bus
 * to its inverter, as an slcan adapter on that bus delivers it
 * (bms/PROTOCOLS.md §96).
 *
 * Every second while the channel is open (the real battery sends 0x110
 * every 2 s, the others every 10 s), 11-bit ids, big-endian, after the
 * inverter's 0x151 (its name):
 *	0x110 CVL, DVL u16 0.1 V; DCL, CCL s16 0.1 A
 *	0x150 SOC, SOH u16 0.01 %; remaining, full capacity u16 0.1 Ah
 *	0x1D0 voltage u16 0.1 V (the cells' sum), current s16 0.1 A (+ =
 *	      charging), the sensors' mean s16 0.1 degC, 03 08
 *	0x210 the highest and lowest sensor s16 0.1 degC
 *	0x190 00 00 03 00 00 00 00 00
 * No cell list on this bus.  cells=N (default 96: three 102.4 V modules);
 * the CVL and DVL the pack's cvl and dvl (a 16-cell module's) times N / 16.
 * hvbad=1: 0x150 and 0x1D0 a byte short.  Encoded here; bms/ is
 * deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define BH_CELLS 160 /* five HVS modules */
#define BH_DEFAULT 96

static void be16(uint8_t *d, long v)
{
	d[0] = (uint8_t)((v >> 8) & 0xFF);
	d[1] = (uint8_t)(v & 0xFF);
}

static void bh_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sim_view all;
	sim_hv_view(p, &all, BH_CELLS);
	sim_hv_view(p, v, 0); /* no cell list on the bus */
	v->voltage = sim_hv_clamp(lround(all.voltage * 10), 0, 65535) / 10.0;
	v->current = sim_hv_clamp(lround(p->current * 10), -32767, 32767) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc * 100), 0, 10000) / 100.0;
	v->soh = sim_hv_clamp(lround(p->soh * 100), 1, 10000) / 100.0;
	v->capacity_ah = sim_hv_clamp(lround(p->capacity_ah * 10), 1, 65535) / 10.0;
	v->remaining_ah = sim_hv_clamp(lround(p->capacity_ah * p->soc / 10.0), 0, lround(v->capacity_ah * 10)) / 10.0;
	v->ccl_a = sim_hv_clamp(lround(p->ccl_a * 10), 0, 32767) / 10.0;
	v->dcl_a = sim_hv_clamp(lround(p->dcl_a * 10), 0, 32767) / 10.0;
	double per16 = all.ncells / 16.0; /* cvl and dvl are a 16-cell module's */
	v->cvl_v = sim_hv_clamp(lround(p->cvl_v * per16 * 10), 0, 65535) / 10.0;
	v->dvl_v = sim_hv_clamp(lround(p->dvl_v * per16 * 10), 0, 65535) / 10.0;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = hi;
	v->temp_c[1] = lo;
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT |
		 SIM_HAS_CUR_LIMITS | SIM_HAS_VOLT_LIMITS;
}

static enum sim_resp bh_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0x00, 'G', 'O', 'O', 'D', 'W', 'E', 0x00 };
	int n = p->hv_bad ? 7 : 8;
	if (!p->can_open)
		return SIM_RESP_NONE;
	bh_view(p, &v);
	sim_slcan_line(reply, 't', 0x151, d, 8); /* the inverter's name */
	be16(d, lround(v.cvl_v * 10));
	be16(d + 2, lround(v.dvl_v * 10));
	be16(d + 4, lround(v.dcl_a * 10));
	be16(d + 6, lround(v.ccl_a * 10));
	sim_slcan_line(reply, 't', 0x110, d, 8);
	be16(d, lround(v.soc * 100));
	be16(d + 2, lround(v.soh * 100));
	be16(d + 4, lround(v.remaining_ah * 10));
	be16(d + 6, lround(v.capacity_ah * 10));
	sim_slcan_line(reply, 't', 0x150, d, n);
	be16(d, lround(v.voltage * 10));
	be16(d + 2, lround(v.current * 10) & 0xFFFF);
	be16(d + 4, (long)(v.tmax_c + v.tmin_c) * 5);
	d[6] = 0x03;
	d[7] = 0x08;
	sim_slcan_line(reply, 't', 0x1D0, d, n);
	memset(d, 0, sizeof d);
	be16(d, (long)v.tmax_c * 10);
	be16(d + 2, (long)v.tmin_c * 10);
	sim_slcan_line(reply, 't', 0x210, d, 8);
	memset(d, 0, sizeof d);
	d[2] = 0x03;
	sim_slcan_line(reply, 't', 0x190, d, 8);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_byd_hvs_in = {
	.name = "byd-hvs-in",
	.default_baud = 115200,
	.max_cells = BH_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = bh_view,
	.corrupt = sim_slcan_corrupt,
	.emit = bh_emit,
	.emit_ms = 1000,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = BH_DEFAULT,
};
