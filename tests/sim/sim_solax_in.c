/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_solax_in.c - a SolaX Triple Power (T-BAT HV) battery on
 * the CAN bus to its inverter, as an slcan adapter on that bus delivers it
 * (bms/PROTOCOLS.md §97).
 *
 * Every second while the channel is open, 29-bit ids, little-endian: the
 * inverter's poll 0x1871, then the battery's answer:
 *	0x187E the installed energy u32 Wh, SOH %, SOC %
 *	0x187A 01 50
 *	0x1872 CVL, DVL u16 0.1 V (the pack's cvl and dvl, a 16-cell
 *	       module's, times the modules), CCL, DCL u16 0.1 A
 *	0x1873 voltage u16 0.1 V (the cells' sum), current s16 0.1 A (+ =
 *	       charging), SOC %, remaining energy u16 0.01 kWh
 *	0x1874 the hottest and coldest sensor s16 0.1 degC, the highest and
 *	       lowest cell 0.1 V
 *	0x1875 the mean temperature, the modules (cells / 16), the contactor
 *	0x1876 the hottest, the highest cell mV, the coldest, the lowest mV
 *	0x1877 type 131, 0x1878 voltage and energy
 * No cell list on this bus.  cells=N (default 128: eight modules).
 * hvbad=1: 0x1873 and 0x1876 a byte short.  Encoded here; bms/ is
 * deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define SX_CELLS 192
#define SX_DEFAULT 128

static void sx_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sim_view all;
	sim_hv_view(p, &all, SX_CELLS);
	sim_hv_extremes(&all);
	sim_hv_view(p, v, 0); /* no cell list on the bus */
	v->voltage = sim_hv_clamp(lround(all.voltage * 10), 0, 65535) / 10.0;
	v->current = sim_hv_clamp(lround(p->current * 10), -32767, 32767) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc), 0, 100);
	v->soh = sim_hv_clamp(lround(p->soh), 1, 100);
	double per16 = all.ncells / 16.0;
	v->cvl_v = sim_hv_clamp(lround(p->cvl_v * per16 * 10), 0, 65535) / 10.0;
	v->dvl_v = sim_hv_clamp(lround(p->dvl_v * per16 * 10), 0, 65535) / 10.0;
	v->ccl_a = sim_hv_clamp(lround(p->ccl_a * 10), 0, 65535) / 10.0;
	v->dcl_a = sim_hv_clamp(lround(p->dcl_a * 10), 0, 65535) / 10.0;
	v->cell_max_mv = all.cell_max_mv;
	v->cell_min_mv = all.cell_min_mv;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = hi;
	v->temp_c[1] = lo;
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->chg_mos = v->dsg_mos = 1;
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_CELL_EXT | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_MOSFETS |
		 SIM_HAS_CUR_LIMITS | SIM_HAS_VOLT_LIMITS;
}

static void le32(uint8_t *d, long v)
{
	sim_slcan_put16(d, v & 0xFFFF);
	sim_slcan_put16(d + 2, (v >> 16) & 0xFFFF);
}

static enum sim_resp sx_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0x01, 0x00, 0x01 };
	int n = p->hv_bad ? 7 : 8;
	if (!p->can_open)
		return SIM_RESP_NONE;
	sx_view(p, &v);
	long wh = lround(p->capacity_ah * v.voltage);
	sim_slcan_line(reply, 'T', 0x1871, d, 8); /* the inverter's poll */
	memset(d, 0, sizeof d);
	le32(d, wh);
	d[4] = (uint8_t)v.soh;
	d[5] = (uint8_t)v.soc;
	sim_slcan_line(reply, 'T', 0x187E, d, 8);
	memset(d, 0, sizeof d);
	d[0] = 0x01;
	d[1] = 0x50;
	sim_slcan_line(reply, 'T', 0x187A, d, 8);
	sim_slcan_put16(d, lround(v.cvl_v * 10));
	sim_slcan_put16(d + 2, lround(v.dvl_v * 10));
	sim_slcan_put16(d + 4, lround(v.ccl_a * 10));
	sim_slcan_put16(d + 6, lround(v.dcl_a * 10));
	sim_slcan_line(reply, 'T', 0x1872, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, lround(v.voltage * 10));
	sim_slcan_put16(d + 2, lround(v.current * 10) & 0xFFFF);
	d[4] = (uint8_t)v.soc;
	sim_slcan_put16(d + 6, lround(wh * v.soc / 100.0 / 10.0));
	sim_slcan_line(reply, 'T', 0x1873, d, n);
	sim_slcan_put16(d, (long)v.tmax_c * 10);
	sim_slcan_put16(d + 2, (long)v.tmin_c * 10);
	sim_slcan_put16(d + 4, lround(v.cell_max_mv / 100.0));
	sim_slcan_put16(d + 6, lround(v.cell_min_mv / 100.0));
	sim_slcan_line(reply, 'T', 0x1874, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, (long)(v.tmax_c + v.tmin_c) * 5);
	d[2] = (uint8_t)(((p->ncells < SX_CELLS ? p->ncells : SX_CELLS) + 8) / 16);
	d[4] = 1; /* the contactor */
	sim_slcan_line(reply, 'T', 0x1875, d, 8);
	sim_slcan_put16(d, (long)v.tmax_c * 10);
	sim_slcan_put16(d + 2, v.cell_max_mv);
	sim_slcan_put16(d + 4, (long)v.tmin_c * 10);
	sim_slcan_put16(d + 6, v.cell_min_mv);
	sim_slcan_line(reply, 'T', 0x1876, d, n);
	memset(d, 0, sizeof d);
	d[4] = 131;
	d[6] = 0x22;
	d[7] = 0x02;
	sim_slcan_line(reply, 'T', 0x1877, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, lround(v.voltage * 10));
	le32(d + 4, wh);
	sim_slcan_line(reply, 'T', 0x1878, d, 8);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_solax_in = {
	.name = "solax-in",
	.default_baud = 115200,
	.max_cells = SX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = sx_view,
	.corrupt = sim_slcan_corrupt,
	.emit = sx_emit,
	.emit_ms = 1000,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = SX_DEFAULT,
};
