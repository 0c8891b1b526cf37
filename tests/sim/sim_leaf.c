/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_leaf.c - a Nissan Leaf pack's LBC on its EV-CAN, as an
 * slcan adapter on that bus delivers it (bms/PROTOCOLS.md §85), and a
 * tester (Leaf Spy) on the same bus asking it for group 2.
 *
 * Every 200 ms while the channel is open, 11-bit ids:
 *	0x1DB current s11 0.5 A (+ = charging), pack voltage 10 bits 0.5 V
 *	      (the cells' sum), the main relay on, interlock; CRC-8 (0x85)
 *	0x55B SOC 10 bits 0.1 %; CRC-8
 * and once a second the tester's "02 21 02" on 0x79B and the LBC's answer
 * on 0x7BB: "61 02", the 96 cells big-endian mV, four bytes more, each
 * consecutive frame after the tester's flow control.  notester=1: no
 * tester (no cells on the bus); hvbad=1: every CRC wrong.  Encoded here;
 * bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define LF_CELLS 96

static void lf_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, p->no_tester ? 0 : LF_CELLS);
	long sum = 0;
	for (int i = 0; i < LF_CELLS && i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	v->voltage = sim_hv_clamp(lround(sum / 500.0), 0, 1022) * 0.5;
	v->current = sim_hv_clamp(lround(p->current * 2), -1024, 1023) * 0.5;
	v->soc = sim_hv_clamp(lround(p->soc * 10), 0, 1000) / 10.0;
	v->has = SIM_HAS_SOC | SIM_HAS_MOSFETS | SIM_HAS_ALARMS | (p->no_tester ? 0 : SIM_HAS_CELLS);
	v->chg_mos = v->dsg_mos = 1;
}

static void lf_crc(const struct sim_pack *p, uint8_t *d)
{
	d[7] = (uint8_t)(sim_hv_crc8(0x85, d, 7) ^ (p->hv_bad ? 0x01 : 0));
}

static enum sim_resp lf_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	if (!p->can_open)
		return SIM_RESP_NONE;
	lf_view(p, &v);
	long i = lround(v.current * 2) & 0x7FF, u = lround(v.voltage * 2);
	d[0] = (uint8_t)(i >> 3);
	d[1] = (uint8_t)((i & 7) << 5);
	d[2] = (uint8_t)(u >> 2);
	d[3] = (uint8_t)((u & 3) << 6 | 0x20 | 0x08); /* main relay on, interlock */
	lf_crc(p, d);
	sim_slcan_line(reply, 't', 0x1DB, d, 8);
	long soc = lround(v.soc * 10);
	memset(d, 0, sizeof d);
	d[0] = (uint8_t)(soc >> 2);
	d[1] = (uint8_t)((soc & 3) << 6);
	lf_crc(p, d);
	sim_slcan_line(reply, 't', 0x55B, d, 8);
	if (p->no_tester || p->counter++ % 5)
		return SIM_RESP_OK;
	uint8_t a[2 + 2 * LF_CELLS + 4] = { 0x61, 0x02 };
	for (int k = 0; k < LF_CELLS; k++)
		sim_hv_be16(a + 2 + 2 * k, k < v.ncells ? v.cell_mv[k] : 0);
	sim_hv_tester(reply, 0x79B, 0x7BB, 0x02, a, (int)sizeof a);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_leaf = {
	.name = "leaf",
	.default_baud = 115200, /* the adapter's serial line */
	.max_cells = LF_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = lf_view,
	.corrupt = sim_slcan_corrupt,
	.emit = lf_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = LF_CELLS,
};
