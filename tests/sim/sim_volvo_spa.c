/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_volvo_spa.c - a Volvo / Polestar SPA pack on its CAN bus,
 * as an slcan adapter on that bus delivers it (bms/PROTOCOLS.md §93).
 *
 * Every 200 ms while the channel is open, 11-bit ids, each field with its
 * validity bit set:
 *	0x3A  pack voltage 0.25 V (the cells' sum), current 0.1 A + 16380 (+ =
 *	      discharging on this bus), the HV relays closed
 *	0x413 the mean, highest and lowest sensor, 13 bits 0.1 degC
 *	0x37D SOC 0.1 %, the highest and lowest cell rounded down to 10 mV
 * hvbad=1: every frame a byte short.  Encoded here; bms/ is deliberately
 * not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define VS_CELLS 108

static void vs_view(const struct sim_pack *p, struct sim_view *v)
{
	struct sim_view all;
	sim_hv_view(p, &all, VS_CELLS);
	sim_hv_extremes(&all);
	sim_hv_view(p, v, 0); /* no cell list on the bus */
	v->voltage = sim_hv_clamp(lround(all.voltage * 4), 0, 2047) * 0.25;
	v->current = -(sim_hv_clamp(lround(-p->current * 10) + 16380, 0, 32767) - 16380) / 10.0;
	v->soc = sim_hv_clamp(lround(p->soc * 10), 0, 1000) / 10.0;
	v->cell_max_mv = all.cell_max_mv / 10 * 10;
	v->cell_min_mv = all.cell_min_mv / 10 * 10;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = v->tmax_c = hi;
	v->temp_c[1] = v->tmin_c = lo;
	v->chg_mos = v->dsg_mos = 1;
	v->has = SIM_HAS_SOC | SIM_HAS_CELL_EXT | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_MOSFETS | SIM_HAS_ALARMS;
}

static void vs_t13(uint8_t *d, int tenths)
{
	unsigned w = (unsigned)tenths & 0x1FFF;
	d[0] = (uint8_t)((d[0] & 0xE0) | (w >> 8));
	d[1] = (uint8_t)(w & 0xFF);
}

static enum sim_resp vs_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	int n = p->hv_bad ? 7 : 8;
	if (!p->can_open)
		return SIM_RESP_NONE;
	vs_view(p, &v);
	long u = lround(v.voltage * 4), i = lround(-v.current * 10) + 16380;
	d[0] = (uint8_t)(0x08 | 0x40 | 0x10 | ((u >> 8) & 7)); /* voltage valid, relays valid and closed */
	d[1] = (uint8_t)(u & 0xFF);
	d[6] = (uint8_t)(0x80 | ((i >> 8) & 0x7F));
	d[7] = (uint8_t)(i & 0xFF);
	sim_slcan_line(reply, 't', 0x3A, d, n);
	memset(d, 0, sizeof d);
	vs_t13(d, (v.tmax_c + v.tmin_c) * 5);
	vs_t13(d + 2, v.tmax_c * 10);
	vs_t13(d + 4, v.tmin_c * 10);
	d[0] |= 0x20 | 0x80; /* temperatures valid, no error */
	sim_slcan_line(reply, 't', 0x413, d, n);
	memset(d, 0, sizeof d);
	long soc = lround(v.soc * 10), hi = v.cell_max_mv / 10, lo = v.cell_min_mv / 10;
	d[0] = (uint8_t)(0x40 | 0x04 | 0x02 | ((lo >> 8) & 1));
	d[1] = (uint8_t)(lo & 0xFF);
	d[2] = (uint8_t)((hi >> 8) & 1);
	d[3] = (uint8_t)(hi & 0xFF);
	d[6] = (uint8_t)((soc >> 8) & 3);
	d[7] = (uint8_t)(soc & 0xFF);
	sim_slcan_line(reply, 't', 0x37D, d, n);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_volvo_spa = {
	.name = "volvo-spa",
	.default_baud = 115200,
	.max_cells = VS_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = vs_view,
	.corrupt = sim_slcan_corrupt,
	.emit = vs_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = VS_CELLS,
};
