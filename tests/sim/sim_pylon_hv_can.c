/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pylon_hv_can.c - a Pylontech HV / Force-H battery answering
 * its inverter on CAN, as a Lawicel slcan adapter on that bus delivers it
 * to a host (bms/PROTOCOLS.md §42).  The adapter side: sim_slcan.c.
 *
 * The battery side, once a second while the channel is open (the inverter
 * asking, 0x4200, is part of what the host hears), 29-bit ids at address 0,
 * DLC 8, little endian:
 *	0x4200 the inverter's request (byte 0 = 0)
 *	0x4210 voltage 0.1 V (the cells' sum), current 0.1 A + 30000, the
 *	       first sensor 0.1 degC + 1000, SOC %, SOH %
 *	0x4220 CVL, DVL 0.1 V, CCL 30000 + 0.1 A, DCL 30000 - 0.1 A
 *	0x4230 highest / lowest cell mV and numbers (not read by bmsgw)
 *	0x4240 highest / lowest sensor 0.1 degC + 1000 and numbers
 *	0x4250 status (1 charging, 2 discharging, 3 idle), error 0, alarm
 *	       bytes 0-1 as the warning bits, 2-3 as the protection bits
 *	0x4280 0xAA where chg_set / dsg_set is 0
 *	0x7320 cells, 1 module, cells, nominal V (3.2 a cell), capacity Ah
 *	0x7330 "PYLONTEC", 0x7340 "H" padded with spaces
 * junk=1 adds frames the decoder must pass over: a battery at address 1's
 * 0x4211, the inverter's 0x8210, a standard 0x351, a remote 0x4210.
 * Faults apply to what the battery sends.  Encoded here; bms/ is
 * deliberately not used.
 */
#include "sim_slcan.h"

#include <math.h>
#include <string.h>

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static long ph_dv(const struct sim_pack *p)
{
	long sum = 0;
	for (int i = 0; i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	return clampl(lround(sum / 100.0), 1, 0xFFFF);
}

static long ph_dt(int c)
{
	return clampl(c * 10L + 1000, 0, 0xFFFF);
}

static void ph_minmax(const struct sim_pack *p, int *hi, int *lo)
{
	*hi = *lo = p->temp_c[0];
	for (int i = 1; i < p->ntemps; i++) {
		*hi = p->temp_c[i] > *hi ? p->temp_c[i] : *hi;
		*lo = p->temp_c[i] < *lo ? p->temp_c[i] : *lo;
	}
}

static void ph_view(const struct sim_pack *p, struct sim_view *v)
{
	int hi, lo;
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_CUR_LIMITS |
		 SIM_HAS_VOLT_LIMITS | SIM_HAS_CAPACITY;
	v->address = p->address;
	v->voltage = ph_dv(p) / 10.0;
	v->current = (clampl(lround(p->current * 10.0) + 30000, 0, 0xFFFF) - 30000) / 10.0;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->soh = (double)clampl(lround(p->soh), 0, 100);
	ph_minmax(p, &hi, &lo);
	v->ntemps = 3;
	v->temp_c[0] = p->temp_c[0];
	v->temp_c[1] = hi;
	v->temp_c[2] = lo;
	v->nalarm = 4;
	memcpy(v->alarm, p->alarm, 4);
	v->ccl_a = p->chg_set ? clampl(lround(p->ccl_a * 10.0), 0, 30000) / 10.0 : 0.0;
	v->dcl_a = p->dsg_set ? clampl(lround(p->dcl_a * 10.0), 0, 30000) / 10.0 : 0.0;
	v->cvl_v = clampl(lround(p->cvl_v * 10.0), 0, 0xFFFF) / 10.0;
	v->dvl_v = clampl(lround(p->dvl_v * 10.0), 0, 0xFFFF) / 10.0;
	v->capacity_ah = (double)clampl(lround(p->capacity_ah), 0, 0xFFFF);
}

static void ph_junk(struct sim_reply *reply, const uint8_t *d4210)
{
	static const uint8_t cmd[8] = { 0xAA };
	sim_slcan_line(reply, 'T', 0x4211, d4210, 8);
	sim_slcan_line(reply, 'T', 0x8210, cmd, 8);
	sim_slcan_line(reply, 't', 0x351, cmd, 8);
	sim_slcan_line(reply, 'R', 0x4210, NULL, 8);
}

static void ph_limits(const struct sim_pack *p, const struct sim_view *v, struct sim_reply *reply)
{
	uint8_t d[8];
	sim_slcan_put16(d, lround(v->cvl_v * 10.0));
	sim_slcan_put16(d + 2, lround(v->dvl_v * 10.0));
	sim_slcan_put16(d + 4, 30000 + lround(v->ccl_a * 10.0));
	sim_slcan_put16(d + 6, 30000 - lround(v->dcl_a * 10.0));
	sim_slcan_line(reply, 'T', 0x4220, d, 8);
	memset(d, 0, sizeof d);
	d[0] = p->chg_set ? 0 : 0xAA;
	d[1] = p->dsg_set ? 0 : 0xAA;
	sim_slcan_line(reply, 'T', 0x4280, d, 8);
}

static void ph_system(const struct sim_pack *p, struct sim_reply *reply)
{
	uint8_t d[8];
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, p->ncells);
	d[2] = 1;
	d[3] = (uint8_t)p->ncells;
	sim_slcan_put16(d + 4, lround(p->ncells * 3.2));
	sim_slcan_put16(d + 6, clampl(lround(p->capacity_ah), 0, 0xFFFF));
	sim_slcan_line(reply, 'T', 0x7320, d, 8);
	sim_slcan_line(reply, 'T', 0x7330, (const uint8_t *)"PYLONTEC", 8);
	sim_slcan_line(reply, 'T', 0x7340, (const uint8_t *)"H       ", 8);
}

static enum sim_resp ph_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8], d4210[8];
	int hi, lo;
	if (!p->can_open)
		return SIM_RESP_NONE;
	ph_view(p, &v);
	memset(d, 0, sizeof d);
	sim_slcan_line(reply, 'T', 0x4200, d, 8);
	sim_slcan_put16(d4210, lround(v.voltage * 10.0));
	sim_slcan_put16(d4210 + 2, 30000 + lround(v.current * 10.0));
	sim_slcan_put16(d4210 + 4, ph_dt(p->temp_c[0]));
	d4210[6] = (uint8_t)lround(v.soc);
	d4210[7] = (uint8_t)lround(v.soh);
	if (p->junk)
		ph_junk(reply, d4210);
	sim_slcan_line(reply, 'T', 0x4210, d4210, 8);
	ph_limits(p, &v, reply);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, sim_pack_cell_mv(p, 0));
	sim_slcan_put16(d + 2, sim_pack_cell_mv(p, 0));
	sim_slcan_line(reply, 'T', 0x4230, d, 8);
	ph_minmax(p, &hi, &lo);
	sim_slcan_put16(d, ph_dt(hi));
	sim_slcan_put16(d + 2, ph_dt(lo));
	sim_slcan_put16(d + 4, 1);
	sim_slcan_put16(d + 6, 2);
	sim_slcan_line(reply, 'T', 0x4240, d, 8);
	memset(d, 0, sizeof d);
	d[0] = p->current > 0.05 ? 1 : p->current < -0.05 ? 2 : 3;
	memcpy(d + 4, p->alarm, 4);
	sim_slcan_line(reply, 'T', 0x4250, d, 8);
	ph_system(p, reply);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_pylon_hv_can = {
	.name = "pylon-hv-can",
	.default_baud = 115200, /* the adapter's serial line */
	.addr_min = 0,
	.addr_max = 0,
	.max_cells = SIM_MAX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = ph_view,
	.corrupt = sim_slcan_corrupt,
	.emit = ph_emit,
	.emit_ms = 1000,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
};
