/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_mach_e.c - a Ford Mustang Mach-E pack on its CAN bus, as
 * an slcan adapter on that bus delivers it (bms/PROTOCOLS.md §92).
 *
 * Every 200 ms while the channel is open, 11-bit ids, big-endian:
 *	0x07A pack voltage 10 bits 0.5 V (the cells' sum)
 *	0x07B current s16, A = -raw x 0.2
 *	0x24C SOC u16 0.01 %
 *	0x490-0x4A2 five cells a frame, 12 bits mV - 1000 (0xFFE past the last)
 *	0x4A3 cell 96, six sensors 2 t + 22
 * hvbad=1: every frame a byte short.  Encoded here; bms/ is deliberately
 * not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define ME_CELLS 96

static void me_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, ME_CELLS);
	long sum = 0;
	for (int i = 0; i < v->ncells; i++)
		sum += v->cell_mv[i];
	v->voltage = sim_hv_clamp(lround(sum / 500.0), 0, 1023) * 0.5;
	v->current = -sim_hv_clamp(lround(-p->current * 5), -32768, 32767) * 0.2;
	v->soc = sim_hv_clamp(lround(p->soc * 100), 0, 10000) / 100.0;
	v->ntemps = 6;
	int hi = -100, lo = 1000;
	for (int i = 0; i < 6; i++) {
		v->temp_c[i] = p->temp_c[i % (p->ntemps > 0 ? p->ntemps : 1)];
		hi = v->temp_c[i] > hi ? v->temp_c[i] : hi;
		lo = v->temp_c[i] < lo ? v->temp_c[i] : lo;
	}
	v->tmax_c = hi;
	v->tmin_c = lo;
	v->has = SIM_HAS_SOC | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT;
}

/* The 12-bit word k (0..4) of a cell frame. */
static void me_put(uint8_t *d, int k, int w)
{
	static const int at[5] = { 0, 1, 3, 4, 6 };
	uint8_t *q = d + at[k];
	if (k == 1 || k == 3) {
		q[0] = (uint8_t)((q[0] & 0xF0) | ((w >> 8) & 0x0F));
		q[1] = (uint8_t)(w & 0xFF);
	} else {
		q[0] = (uint8_t)((w >> 4) & 0xFF);
		q[1] = (uint8_t)((q[1] & 0x0F) | ((w & 0x0F) << 4));
	}
}

static int me_raw(const struct sim_view *v, int i)
{
	return i < v->ncells ? (int)sim_hv_clamp(v->cell_mv[i] - 1000, 0, 0xFFD) : 0xFFE;
}

static enum sim_resp me_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0 };
	int cut = p->hv_bad ? 1 : 0;
	if (!p->can_open)
		return SIM_RESP_NONE;
	me_view(p, &v);
	long u = lround(v.voltage * 2);
	d[2] = (uint8_t)((u >> 8) & 3);
	d[3] = (uint8_t)(u & 0xFF);
	sim_slcan_line(reply, 't', 0x07A, d, 8 - cut);
	memset(d, 0, sizeof d);
	sim_hv_be16(d, lround(-v.current * 5));
	sim_slcan_line(reply, 't', 0x07B, d, 8 - cut);
	memset(d, 0, sizeof d);
	sim_hv_be16(d + 3, lround(v.soc * 100));
	d[6] = (uint8_t)lround(v.soc * 2);
	sim_slcan_line(reply, 't', 0x24C, d, 8 - cut);
	for (int f = 0; f < 19; f++) {
		memset(d, 0, sizeof d);
		for (int k = 0; k < 5; k++)
			me_put(d, k, me_raw(&v, 5 * f + k));
		sim_slcan_line(reply, 't', (unsigned)(0x490 + f), d, 8 - cut);
	}
	memset(d, 0, sizeof d);
	me_put(d, 0, me_raw(&v, 95));
	for (int i = 0; i < 6; i++)
		d[2 + i] = (uint8_t)sim_hv_clamp(2 * v.temp_c[i] + 22, 0, 255);
	sim_slcan_line(reply, 't', 0x4A3, d, 8 - cut);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_mach_e = {
	.name = "mach-e",
	.default_baud = 115200,
	.max_cells = ME_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = me_view,
	.corrupt = sim_slcan_corrupt,
	.emit = me_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = ME_CELLS,
};
