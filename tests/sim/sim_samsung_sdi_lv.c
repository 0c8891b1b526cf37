/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_samsung_sdi_lv.c - a Samsung SDI low-voltage (48 V) battery
 * rack on its CAN bus, as an slcan adapter on that bus delivers it
 * (bms/PROTOCOLS.md §100).
 *
 * Every 500 ms while the channel is open, 11-bit ids, little-endian:
 *	0x500 voltage u16 0.01 V (the cells' sum), current s16 1 A (+ =
 *	      charging), SOC %, SOH %, a heartbeat u16 counting
 *	0x501 the alarm and protection words 0, one tray of one normal
 *	0x502 CVL u16 0.1 V, CCL, DCL u16 0.1 A, DVL u16 0.1 V
 *	0x503 the mean, highest and lowest cell mV, the mean tray 0.01 V
 *	0x504 the highest and lowest tray 0.01 V, the sensors' mean, the
 *	      highest and the lowest s8 degC
 *	0x505 the permanent failure's dry contact and fuse 0
 * No cell list on this bus.  cells=N (default 14: an ELPM482 tray, at most
 * 16); the CVL and DVL the pack's cvl and dvl (a 16-cell module's) times
 * N / 16.  hvbad=1: 0x500 and 0x503 a byte short.  Encoded here; bms/ is
 * deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define SD_CELLS 16
#define SD_DEFAULT 14

static void sd_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sim_view all;
	sim_hv_view(p, &all, SD_CELLS);
	sim_hv_extremes(&all);
	sim_hv_view(p, v, 0); /* no cell list on the bus */
	v->voltage = sim_hv_clamp(lround(all.voltage * 100), 0, 65535) / 100.0;
	v->current = (double)sim_hv_clamp(lround(p->current), -32767, 32767);
	v->soc = sim_hv_clamp(lround(p->soc), 0, 100);
	v->soh = sim_hv_clamp(lround(p->soh), 1, 100);
	double per16 = all.ncells / 16.0; /* cvl and dvl are a 16-cell module's */
	v->cvl_v = sim_hv_clamp(lround(p->cvl_v * per16 * 10), 0, 65535) / 10.0;
	v->dvl_v = sim_hv_clamp(lround(p->dvl_v * per16 * 10), 0, 65535) / 10.0;
	v->ccl_a = sim_hv_clamp(lround(p->ccl_a * 10), 0, 65535) / 10.0;
	v->dcl_a = sim_hv_clamp(lround(p->dcl_a * 10), 0, 65535) / 10.0;
	v->cell_max_mv = all.cell_max_mv;
	v->cell_min_mv = all.cell_min_mv;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = (int)sim_hv_clamp(hi, -128, 127);
	v->temp_c[1] = (int)sim_hv_clamp(lo, -128, 127);
	v->tmax_c = v->temp_c[0];
	v->tmin_c = v->temp_c[1];
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CELL_EXT | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_ALARMS |
		 SIM_HAS_CUR_LIMITS | SIM_HAS_VOLT_LIMITS;
}

static enum sim_resp sd_emit(struct sim_pack *p, struct sim_reply *reply)
{
	static unsigned beat;
	struct sim_view v;
	uint8_t d[8] = { 0 };
	int n = p->hv_bad ? 7 : 8;
	if (!p->can_open)
		return SIM_RESP_NONE;
	sd_view(p, &v);
	long tray = lround(v.voltage * 100);
	sim_slcan_put16(d, tray);
	sim_slcan_put16(d + 2, lround(v.current));
	d[4] = (uint8_t)v.soc;
	d[5] = (uint8_t)v.soh;
	sim_slcan_put16(d + 6, beat++ & 0xFFFF);
	sim_slcan_line(reply, 't', 0x500, d, n);
	memset(d, 0, sizeof d);
	d[4] = d[5] = 1;
	sim_slcan_line(reply, 't', 0x501, d, 8);
	sim_slcan_put16(d, lround(v.cvl_v * 10));
	sim_slcan_put16(d + 2, lround(v.ccl_a * 10));
	sim_slcan_put16(d + 4, lround(v.dcl_a * 10));
	sim_slcan_put16(d + 6, lround(v.dvl_v * 10));
	sim_slcan_line(reply, 't', 0x502, d, 8);
	sim_slcan_put16(d, (v.cell_max_mv + v.cell_min_mv) / 2);
	sim_slcan_put16(d + 2, v.cell_max_mv);
	sim_slcan_put16(d + 4, v.cell_min_mv);
	sim_slcan_put16(d + 6, tray);
	sim_slcan_line(reply, 't', 0x503, d, n);
	sim_slcan_put16(d, tray);
	sim_slcan_put16(d + 2, tray);
	d[4] = (uint8_t)(int8_t)((v.tmax_c + v.tmin_c) / 2);
	d[5] = (uint8_t)(int8_t)v.tmax_c;
	d[6] = (uint8_t)(int8_t)v.tmin_c;
	d[7] = 0;
	sim_slcan_line(reply, 't', 0x504, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_line(reply, 't', 0x505, d, 8);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_samsung_sdi_lv = {
	.name = "samsung-sdi-lv",
	.default_baud = 115200,
	.max_cells = SD_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = sd_view,
	.corrupt = sim_slcan_corrupt,
	.emit = sd_emit,
	.emit_ms = 500,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = SD_DEFAULT,
};
