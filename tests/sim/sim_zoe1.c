/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_zoe1.c - a Renault Zoe 22/41 kWh pack's LBC on its CAN
 * bus, as an slcan adapter on that bus delivers it (bms/PROTOCOLS.md
 * §87), and a tester asking it for its cells.
 *
 * Every 200 ms while the channel is open, 11-bit ids, big-endian:
 *	0x155 current 12 bits 0.25 A - 500 A (+ = charging), SOC u16 0.0025 %
 *	0x424 no level raised, SOH b5, the lowest and highest sensor b4, b7
 *	      (+ 40), the heartbeat b6 0x55 / 0xAA in turn
 *	0x425 the highest and lowest cell rounded down to 10 mV
 *	0x42E the pack voltage 0.5 V (the cells' sum) << 5
 * and once a second the tester's "21 41" and "21 42" on 0x79B and the
 * LBC's answers on 0x7BB: "61 41" cells 1-62, "61 42" cells 63-96.
 * notester=1: no tester; hvbad=1: 0x424 without its heartbeat, 0x155 a
 * byte short.  Encoded here; bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define Z1_CELLS 96

static void z1_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, p->no_tester ? 0 : Z1_CELLS);
	long sum = 0;
	for (int i = 0; i < Z1_CELLS && i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	v->voltage = sim_hv_clamp(lround(sum / 500.0), 0, 1023) * 0.5;
	v->current = (sim_hv_clamp(lround(p->current * 4) + 2000, 0, 4095) - 2000) * 0.25;
	v->soc = sim_hv_clamp(lround(p->soc * 400), 0, 40000) * 0.0025;
	v->soh = sim_hv_clamp(lround(p->soh), 0, 100);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_ALARMS |
		 (p->no_tester ? SIM_HAS_CELL_EXT : SIM_HAS_CELLS);
	struct sim_view all;
	sim_hv_view(p, &all, Z1_CELLS);
	sim_hv_extremes(&all);
	v->cell_max_mv = all.cell_max_mv / 10 * 10;
	v->cell_min_mv = all.cell_min_mv / 10 * 10;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = v->tmax_c = hi;
	v->temp_c[1] = v->tmin_c = lo;
}

static void z1_answers(const struct sim_view *v, struct sim_reply *reply)
{
	uint8_t a[2 + 2 * 62] = { 0x61, 0x41 };
	for (int k = 0; k < 62; k++)
		sim_hv_be16(a + 2 + 2 * k, v->cell_mv[k]);
	sim_hv_tester(reply, 0x79B, 0x7BB, 0x41, a, 2 + 2 * 62);
	a[1] = 0x42;
	for (int k = 0; k < 34; k++)
		sim_hv_be16(a + 2 + 2 * k, v->cell_mv[62 + k]);
	sim_hv_tester(reply, 0x79B, 0x7BB, 0x42, a, 2 + 2 * 34);
}

static enum sim_resp z1_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	if (!p->can_open)
		return SIM_RESP_NONE;
	z1_view(p, &v);
	long i = lround(v.current * 4) + 2000, soc = lround(v.soc * 400);
	d[1] = (uint8_t)((i >> 8) & 0x0F);
	d[2] = (uint8_t)(i & 0xFF);
	sim_hv_be16(d + 4, soc);
	sim_slcan_line(reply, 't', 0x155, d, p->hv_bad ? 7 : 8);
	memset(d, 0, sizeof d);
	d[4] = (uint8_t)sim_hv_clamp(v.tmin_c + 40, 0, 255);
	d[5] = (uint8_t)v.soh;
	d[6] = p->hv_bad ? 0x00 : (p->counter & 1) ? 0xAA : 0x55;
	d[7] = (uint8_t)sim_hv_clamp(v.tmax_c + 40, 0, 255);
	sim_slcan_line(reply, 't', 0x424, d, 8);
	memset(d, 0, sizeof d);
	long hi = sim_hv_clamp((v.cell_max_mv - 1000) / 10, 0, 511), lo = sim_hv_clamp((v.cell_min_mv - 1000) / 10, 0, 511);
	d[4] = (uint8_t)((hi >> 7) & 3);
	d[5] = (uint8_t)((hi & 0x7F) << 1);
	d[6] = (uint8_t)((lo >> 8) & 1);
	d[7] = (uint8_t)(lo & 0xFF);
	sim_slcan_line(reply, 't', 0x425, d, 8);
	memset(d, 0, sizeof d);
	sim_hv_be16(d + 3, lround(v.voltage * 2) << 5);
	sim_slcan_line(reply, 't', 0x42E, d, 8);
	if (!p->no_tester && p->counter % 5 == 0)
		z1_answers(&v, reply);
	p->counter++;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_zoe1 = {
	.name = "zoe1",
	.default_baud = 115200,
	.max_cells = Z1_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = z1_view,
	.corrupt = sim_slcan_corrupt,
	.emit = z1_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = Z1_CELLS,
};
