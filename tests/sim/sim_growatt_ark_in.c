/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_growatt_ark_in.c - a Growatt ARK HV battery on the CAN bus
 * to its Growatt inverter, as an slcan adapter on that bus delivers it
 * (bms/PROTOCOLS.md §99).
 *
 * Every second while the channel is open, 29-bit ids, big-endian: the
 * inverter's heartbeat 0x3010, control 0x3020 and time 0x3030, then the
 * battery's answer:
 *	0x3110 CVL u16 0.1 V (the pack's cvl, a 16-cell module's, times the
 *	       modules), CCL, DCL u16 0.1 A; b6 0x30; b7 the state from the
 *	       current's sign, bit 6 / bit 5 where CCL / DCL is 0
 *	0x3120 zeros (no protection, no alarm)
 *	0x3130 voltage u16 0.1 V (the cells' sum), current s16 0.1 A (+ =
 *	       charging), the hottest sensor s16 0.1 degC, SOC %, SOH %
 *	0x3140 remaining, full capacity u16 10 mAh (whole 0.1 Ah), "GT",
 *	       cycles u16
 *	0x3150 DVL u16 0.1 V, the board's temperature s16 0.1 degC, the
 *	       cells, the modules (cells / 16)
 *	0x3160 0, the highest and lowest cell's module and cell, the coldest
 *	       sensor s16 0.1 degC
 *	0x3170 the sensors' positions, 50   0x3180 "GT", 1, the cells
 *	0x3190 0, the highest and lowest cell mV
 *	0x3200 "GT", 1, the cell charge cut-off mV
 * No cell list on this bus.  cells=N (default 128: eight ARK 2.5H-A1
 * modules).  hvbad=1: 0x3130 and 0x3190 a byte short.  Encoded here;
 * bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define GA_CELLS 192
#define GA_DEFAULT 128

static void ga_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sim_view all;
	sim_hv_view(p, &all, GA_CELLS);
	sim_hv_extremes(&all);
	sim_hv_view(p, v, 0); /* no cell list on the bus */
	v->voltage = sim_hv_clamp(lround(all.voltage * 10), 0, 65535) / 10.0;
	v->current = sim_hv_clamp(lround(p->current * 10), -32767, 32767) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc), 0, 100);
	v->soh = sim_hv_clamp(lround(p->soh), 1, 100);
	v->capacity_ah = sim_hv_clamp(lround(p->capacity_ah * 10), 1, 6553) / 10.0;
	v->remaining_ah = sim_hv_clamp(lround(v->capacity_ah * v->soc / 10.0), 0, lround(v->capacity_ah * 10)) / 10.0;
	v->cycles = (unsigned)sim_hv_clamp((long)p->cycles, 0, 65535);
	v->mos_temp_c = p->mos_temp_c;
	double per16 = all.ncells / 16.0;
	v->cvl_v = sim_hv_clamp(lround(p->cvl_v * per16 * 10), 1, 9999) / 10.0;
	v->dvl_v = sim_hv_clamp(lround(p->dvl_v * per16 * 10), 0, lround(v->cvl_v * 10) - 1) / 10.0;
	v->ccl_a = sim_hv_clamp(lround(p->ccl_a * 10), 0, 32767) / 10.0;
	v->dcl_a = sim_hv_clamp(lround(p->dcl_a * 10), 0, 32767) / 10.0;
	v->cell_max_mv = all.cell_max_mv;
	v->cell_min_mv = all.cell_min_mv;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = hi;
	v->temp_c[1] = lo;
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_MOS_TEMP | SIM_HAS_CELL_EXT |
		 SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_CUR_LIMITS | SIM_HAS_VOLT_LIMITS | SIM_HAS_ALARMS |
		 (v->cycles ? SIM_HAS_CYCLES : 0);
}

static void gt(uint8_t *d)
{
	d[0] = 'G';
	d[1] = 'T';
}

/* The inverter's heartbeat (a counter), control (charge, discharge, wake
 * up: 0xAA) and time (seconds, "operating"). */
static void ga_inverter(struct sim_reply *reply, unsigned long beat)
{
	uint8_t d[8] = { 0 };
	sim_hv_be16(d, (long)(beat & 0xFFFF));
	sim_slcan_line(reply, 'T', 0x3010, d, 8);
	memset(d, 0, sizeof d);
	d[0] = d[1] = d[7] = 0xAA;
	sim_slcan_line(reply, 'T', 0x3020, d, 8);
	memset(d, 0, sizeof d);
	sim_hv_be16(d, (long)((1700000000ul + beat) >> 16));
	sim_hv_be16(d + 2, (long)((1700000000ul + beat) & 0xFFFF));
	d[7] = 0x01;
	sim_slcan_line(reply, 'T', 0x3030, d, 8);
}

static void ga_limits(struct sim_reply *reply, const struct sim_view *v)
{
	uint8_t d[8] = { 0 };
	long i = lround(v->current * 10);
	sim_hv_be16(d, lround(v->cvl_v * 10));
	sim_hv_be16(d + 2, lround(v->ccl_a * 10));
	sim_hv_be16(d + 4, lround(v->dcl_a * 10));
	d[6] = 0x30; /* ISO detected, battery normal */
	d[7] = (uint8_t)((i > 0 ? 0x02 : i < 0 ? 0x03 : 0x01) | (v->ccl_a > 0 ? 0 : 0x40) | (v->dcl_a > 0 ? 0 : 0x20));
	sim_slcan_line(reply, 'T', 0x3110, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_line(reply, 'T', 0x3120, d, 8);
}

static void ga_counts(struct sim_reply *reply, const struct sim_view *v, int ncells)
{
	uint8_t d[8] = { 0 };
	sim_hv_be16(d, lround(v->dvl_v * 10));
	sim_hv_be16(d + 2, lround(v->mos_temp_c * 10) & 0xFFFF);
	sim_hv_be16(d + 4, ncells);
	sim_hv_be16(d + 6, (ncells + 8) / 16);
	sim_slcan_line(reply, 'T', 0x3150, d, 8);
	memset(d, 0, sizeof d);
	d[2] = d[3] = d[4] = 1;
	d[5] = 2;
	sim_hv_be16(d + 6, lround(v->tmin_c * 10) & 0xFFFF);
	sim_slcan_line(reply, 'T', 0x3160, d, 8);
	memset(d, 0, sizeof d);
	d[0] = d[1] = d[2] = 1;
	d[3] = 2;
	d[4] = 50;
	sim_slcan_line(reply, 'T', 0x3170, d, 8);
	memset(d, 0, sizeof d);
	gt(d);
	sim_hv_be16(d + 2, 1);
	sim_hv_be16(d + 4, ncells);
	sim_slcan_line(reply, 'T', 0x3180, d, 8);
}

static enum sim_resp ga_emit(struct sim_pack *p, struct sim_reply *reply)
{
	static unsigned long beat;
	struct sim_view v;
	uint8_t d[8] = { 0 };
	int n = p->hv_bad ? 7 : 8;
	int ncells = p->ncells < GA_CELLS ? p->ncells : GA_CELLS;
	if (!p->can_open)
		return SIM_RESP_NONE;
	ga_view(p, &v);
	ga_inverter(reply, ++beat);
	ga_limits(reply, &v);
	sim_hv_be16(d, lround(v.voltage * 10));
	sim_hv_be16(d + 2, lround(v.current * 10) & 0xFFFF);
	sim_hv_be16(d + 4, lround(v.tmax_c * 10) & 0xFFFF);
	d[6] = (uint8_t)v.soc;
	d[7] = (uint8_t)v.soh;
	sim_slcan_line(reply, 'T', 0x3130, d, n);
	memset(d, 0, sizeof d);
	sim_hv_be16(d, lround(v.remaining_ah * 100));
	sim_hv_be16(d + 2, lround(v.capacity_ah * 100));
	gt(d + 4);
	sim_hv_be16(d + 6, (long)v.cycles);
	sim_slcan_line(reply, 'T', 0x3140, d, 8);
	ga_counts(reply, &v, ncells);
	memset(d, 0, sizeof d);
	sim_hv_be16(d + 1, v.cell_max_mv);
	sim_hv_be16(d + 3, v.cell_min_mv);
	sim_slcan_line(reply, 'T', 0x3190, d, n);
	memset(d, 0, sizeof d);
	gt(d);
	d[2] = 0x01;
	sim_hv_be16(d + 6, ncells ? lround(v.cvl_v * 1000 / ncells) : 0);
	sim_slcan_line(reply, 'T', 0x3200, d, 8);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_growatt_ark_in = {
	.name = "growatt-ark-in",
	.default_baud = 115200,
	.max_cells = GA_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = ga_view,
	.corrupt = sim_slcan_corrupt,
	.emit = ga_emit,
	.emit_ms = 1000,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = GA_DEFAULT,
};
