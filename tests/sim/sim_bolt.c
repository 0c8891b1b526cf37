/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_bolt.c - a Chevrolet Bolt / Opel Ampera-e pack on its CAN
 * bus, as an slcan adapter on that bus delivers it (bms/PROTOCOLS.md §91).
 *
 * Every 200 ms while the channel is open, 11-bit ids:
 *	0x200-0x206 the cell matrices: mux b6 bits 7-5, three cells of
 *	      1.25 mV a frame (cell (id - 0x200) / 2 x 24 + 3 mux + k)
 *	0x2C7 pack voltage (b3 << 4 | b4 >> 4) x 0.125 V (the cells' sum)
 *	0x20C the highest and lowest cell rounded down to 20 mV
 *	0x3E3 the lowest and highest sensor (t + 40) x 2
 * No SOC, no current.  hvbad=1: every frame a byte short.  Encoded here;
 * bms/ is deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define BT_CELLS 96

static void bt_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, BT_CELLS);
	long sum = 0;
	for (int i = 0; i < v->ncells; i++) {
		long raw = sim_hv_clamp(lround(v->cell_mv[i] / 1.25), 0, 4095);
		v->cell_mv[i] = (int)(raw * 5 / 4);
		sum += sim_pack_cell_mv(p, i);
	}
	v->voltage = sim_hv_clamp(lround(sum / 125.0), 0, 4095) * 0.125;
	v->current = 0;
	sim_hv_extremes(v);
	v->cell_max_mv = v->cell_max_mv / 20 * 20;
	v->cell_min_mv = v->cell_min_mv / 20 * 20;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = v->tmax_c = hi;
	v->temp_c[1] = v->tmin_c = lo;
	v->has = SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT | SIM_HAS_NO_CURRENT;
}

static enum sim_resp bt_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	int cut = p->hv_bad ? 1 : 0;
	if (!p->can_open)
		return SIM_RESP_NONE;
	bt_view(p, &v);
	for (int g = 0; 3 * g < v.ncells && g < 32; g++) {
		long r[3];
		for (int k = 0; k < 3; k++)
			r[k] = 3 * g + k < v.ncells ? sim_hv_clamp(lround(sim_pack_cell_mv(p, 3 * g + k) / 1.25), 0, 4095) : 0;
		memset(d, 0, sizeof d);
		d[0] = (uint8_t)((r[0] >> 7) & 0x1F);
		d[1] = (uint8_t)((r[0] & 0x7F) << 1);
		d[2] = (uint8_t)((r[1] >> 7) & 0x1F);
		d[3] = (uint8_t)((r[1] & 0x7F) << 1);
		d[4] = (uint8_t)(r[2] >> 4);
		d[5] = (uint8_t)((r[2] & 0x0F) << 4);
		d[6] = (uint8_t)((g % 8) << 5);
		sim_slcan_line(reply, 't', (unsigned)(0x200 + 2 * (g / 8)), d, 8 - cut);
	}
	memset(d, 0, sizeof d);
	long u = lround(v.voltage * 8);
	d[0] = 0x03;
	d[1] = 0x20;
	d[3] = (uint8_t)(u >> 4);
	d[4] = (uint8_t)((u & 0x0F) << 4);
	sim_slcan_line(reply, 't', 0x2C7, d, 6 - cut);
	memset(d, 0, sizeof d);
	d[4] = (uint8_t)(v.cell_max_mv / 20);
	d[5] = (uint8_t)(v.cell_min_mv / 20);
	sim_slcan_line(reply, 't', 0x20C, d, 8 - cut);
	memset(d, 0, sizeof d);
	d[2] = (uint8_t)sim_hv_clamp((v.tmin_c + 40) * 2, 0, 255);
	d[4] = (uint8_t)sim_hv_clamp((v.tmax_c + 40) * 2, 0, 255);
	sim_slcan_line(reply, 't', 0x3E3, d, 8 - cut);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_bolt = {
	.name = "bolt",
	.default_baud = 115200,
	.max_cells = BT_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = bt_view,
	.corrupt = sim_slcan_corrupt,
	.emit = bt_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = BT_CELLS,
};
