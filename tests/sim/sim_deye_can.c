/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_deye_can.c - a Deye low-voltage battery on its PCS CAN bus,
 * as a Lawicel slcan adapter on that bus delivers it to a host
 * (bms/PROTOCOLS.md §43).  The adapter side: sim_slcan.c.
 *
 * The battery side, once a second while the channel is open, 11-bit ids,
 * DLC 8, little endian: 0x351 CVL, CCL, DCL, DVL (0.1 V, 0.1 A; CCL / DCL
 * 0 while chg_set / dsg_set is 0); 0x355 SOC, SOH; 0x356 voltage 0.01 V,
 * current 0.1 A with + = discharging (the open reader's sign), the first
 * sensor 0.1 degC; 0x359 = alarm bytes 0-7 as they are; 0x35E "DY001",
 * cell type 3, capacity 0.1 Ah; 0x361 highest and lowest cell mV, highest
 * and lowest sensor 0.1 degC.  junk=1 adds the inverter's 0x305, a bank's
 * per-battery 0x150, an extended frame and a remote 0x356.  Faults apply to
 * what the battery sends.  Encoded here; bms/ is deliberately not used.
 */
#include "sim_slcan.h"

#include <math.h>
#include <string.h>

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void dy_minmax(const struct sim_pack *p, int *hi, int *lo)
{
	*hi = *lo = p->temp_c[0];
	for (int i = 1; i < p->ntemps; i++) {
		*hi = p->temp_c[i] > *hi ? p->temp_c[i] : *hi;
		*lo = p->temp_c[i] < *lo ? p->temp_c[i] : *lo;
	}
}

static void dy_view(const struct sim_pack *p, struct sim_view *v)
{
	long sum = 0;
	int hi, lo;
	for (int i = 0; i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_CUR_LIMITS |
		 SIM_HAS_VOLT_LIMITS | SIM_HAS_CAPACITY;
	v->address = p->address;
	v->voltage = clampl(lround(sum / 10.0), 1, 0x7FFF) / 100.0;
	v->current = clampl(lround(p->current * 10.0), -0x7FFF, 0x7FFF) / 10.0;
	v->soc = (double)clampl(lround(p->soc), 0, 100);
	v->soh = (double)clampl(lround(p->soh), 0, 100);
	dy_minmax(p, &hi, &lo);
	v->ntemps = 3;
	v->temp_c[0] = p->temp_c[0];
	v->temp_c[1] = hi;
	v->temp_c[2] = lo;
	v->nalarm = 8;
	memcpy(v->alarm, p->alarm, 8);
	v->ccl_a = p->chg_set ? clampl(lround(p->ccl_a * 10.0), 0, 30000) / 10.0 : 0.0;
	v->dcl_a = p->dsg_set ? clampl(lround(p->dcl_a * 10.0), 0, 30000) / 10.0 : 0.0;
	v->cvl_v = clampl(lround(p->cvl_v * 10.0), 0, 0xFFFF) / 10.0;
	v->dvl_v = clampl(lround(p->dvl_v * 10.0), 0, 0xFFFF) / 10.0;
	v->capacity_ah = clampl(lround(p->capacity_ah * 10.0), 0, 0xFFFF) / 10.0;
}

static void dy_junk(struct sim_reply *reply)
{
	static const uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	sim_slcan_line(reply, 't', 0x305, d, 8);
	sim_slcan_line(reply, 't', 0x150, d, 8);
	sim_slcan_line(reply, 'T', 0x18FF50E5, d, 8);
	sim_slcan_line(reply, 'r', 0x356, NULL, 8);
}

static enum sim_resp dy_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8];
	int hi, lo;
	if (!p->can_open)
		return SIM_RESP_NONE;
	dy_view(p, &v);
	if (p->junk)
		dy_junk(reply);
	sim_slcan_put16(d, lround(v.cvl_v * 10.0));
	sim_slcan_put16(d + 2, lround(v.ccl_a * 10.0));
	sim_slcan_put16(d + 4, lround(v.dcl_a * 10.0));
	sim_slcan_put16(d + 6, lround(v.dvl_v * 10.0));
	sim_slcan_line(reply, 't', 0x351, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, lround(v.soc));
	sim_slcan_put16(d + 2, lround(v.soh));
	sim_slcan_line(reply, 't', 0x355, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, lround(v.voltage * 100.0));
	sim_slcan_put16(d + 2, -lround(v.current * 10.0));
	sim_slcan_put16(d + 4, p->temp_c[0] * 10L);
	sim_slcan_line(reply, 't', 0x356, d, 8);
	sim_slcan_line(reply, 't', 0x359, p->alarm, 8);
	memcpy(d, "DY001", 5);
	d[5] = 3;
	sim_slcan_put16(d + 6, lround(v.capacity_ah * 10.0));
	sim_slcan_line(reply, 't', 0x35E, d, 8);
	dy_minmax(p, &hi, &lo);
	sim_slcan_put16(d, sim_pack_cell_mv(p, 0));
	sim_slcan_put16(d + 2, sim_pack_cell_mv(p, 0));
	sim_slcan_put16(d + 4, hi * 10L);
	sim_slcan_put16(d + 6, lo * 10L);
	sim_slcan_line(reply, 't', 0x361, d, 8);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_deye_can = {
	.name = "deye-can",
	.default_baud = 115200, /* the adapter's serial line */
	.addr_min = 0,
	.addr_max = 0,
	.max_cells = SIM_LV_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = dy_view,
	.corrupt = sim_slcan_corrupt,
	.emit = dy_emit,
	.emit_ms = 1000,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
};
