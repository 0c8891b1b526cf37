/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_zoe2.c - a Renault Zoe ZE50 pack's LBC on its CAN bus, as
 * an slcan adapter on that bus delivers it (bms/PROTOCOLS.md §88), and a
 * tester asking it with UDS.
 *
 * Every 200 ms while the channel is open: the tester's "03 22 DID" on
 * 0x18DADBF1 and the LBC's single-frame answers "05 62 DID value" on
 * 0x18DAF1DB for the current 0x925D ((A x 32) + 32640), SOC 0x9001 and
 * SOH 0x9003 (0.01 %), the lowest and highest temperature 0x9013 /
 * 0x9014 (degC x 16 + 640) (all five each time: faster than
 * Battery-Emulator's one request in 200 ms, the decoding is what is
 * played); then, 11-bit, big-endian:
 *	0x0F8 the interlock 0xFFFE, the pack voltage (the 96 cells' sum) x 80
 *	0x4DB (3 bytes) the highest and lowest cell - 1000 mV, 12 bits each
 *	0x36C a counter b0, b7 the CRC-8 (0x1D, initial 0) of b0-b6 ^ 0x01
 * notester=1: no tester (no current, SOC, SOH nor temperature); hvbad=1:
 * 0x36C with a wrong CRC, 0x0F8 a byte short.  Encoded here; bms/ is
 * deliberately not used. */
#include "sim_hv.h"

#include <math.h>
#include <string.h>

#define Z2_CELLS 96

static void z2_view(const struct sim_pack *p, struct sim_view *v)
{
	sim_hv_view(p, v, Z2_CELLS);
	long sum = 0;
	for (int i = 0; i < Z2_CELLS && i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	v->voltage = sim_hv_clamp(lround(sum * 0.08), 0, 65535) / 80.0;
	sim_hv_extremes(v);
	v->ncells = 0;
	memset(v->cell_mv, 0, sizeof(v->cell_mv));
	v->has = SIM_HAS_CELL_EXT | SIM_HAS_ALARMS;
	if (p->no_tester) {
		v->has |= SIM_HAS_NO_CURRENT;
		v->current = 0;
		return;
	}
	v->current = (sim_hv_clamp(lround(p->current * 32) + 32640, 0, 65535) - 32640) / 32.0;
	v->soc = sim_hv_clamp(lround(p->soc * 100), 0, 10000) * 0.01;
	v->soh = sim_hv_clamp(lround(p->soh * 100), 0, 10000) * 0.01;
	int hi, lo;
	sim_hv_temps(p, &hi, &lo);
	v->ntemps = 2;
	v->temp_c[0] = v->tmax_c = hi;
	v->temp_c[1] = v->tmin_c = lo;
	v->has |= SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_TEMPS | SIM_HAS_TEMP_EXT;
}

/* The tester's request for did and the LBC's answer value. */
static void z2_ask(struct sim_reply *reply, unsigned did, long value)
{
	uint8_t q[8] = { 0x03, 0x22, (uint8_t)(did >> 8), (uint8_t)did }, a[8] = { 0x05, 0x62 };
	sim_slcan_line(reply, 'T', 0x18DADBF1, q, 8);
	a[2] = (uint8_t)(did >> 8);
	a[3] = (uint8_t)did;
	sim_hv_be16(a + 4, sim_hv_clamp(value, 0, 65535));
	sim_slcan_line(reply, 'T', 0x18DAF1DB, a, 8);
}

static void z2_tester(const struct sim_view *v, struct sim_reply *reply)
{
	z2_ask(reply, 0x925D, lround(v->current * 32) + 32640);
	z2_ask(reply, 0x9001, lround(v->soc * 100));
	z2_ask(reply, 0x9003, lround(v->soh * 100));
	z2_ask(reply, 0x9013, lround(v->tmin_c * 16) + 640);
	z2_ask(reply, 0x9014, lround(v->tmax_c * 16) + 640);
}

static enum sim_resp z2_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct sim_view v;
	uint8_t d[8] = { 0xFF, 0xFE };
	if (!p->can_open)
		return SIM_RESP_NONE;
	z2_view(p, &v);
	if (!p->no_tester)
		z2_tester(&v, reply);
	sim_hv_be16(d + 2, lround(v.voltage * 80));
	sim_slcan_line(reply, 't', 0x0F8, d, p->hv_bad ? 7 : 8);
	memset(d, 0, sizeof d);
	long hi = sim_hv_clamp(v.cell_max_mv - 1000, 0, 4095), lo = sim_hv_clamp(v.cell_min_mv - 1000, 0, 4095);
	d[0] = (uint8_t)(hi >> 4);
	d[1] = (uint8_t)((hi & 0x0F) << 4 | (lo >> 8));
	d[2] = (uint8_t)(lo & 0xFF);
	sim_slcan_line(reply, 't', 0x4DB, d, 3);
	memset(d, 0, sizeof d);
	d[0] = (uint8_t)p->counter;
	d[7] = (uint8_t)(sim_hv_crc8(0x1D, d, 7) ^ (p->hv_bad ? 0x02 : 0x01));
	sim_slcan_line(reply, 't', 0x36C, d, 8);
	p->counter++;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_zoe2 = {
	.name = "zoe2",
	.default_baud = 115200,
	.max_cells = Z2_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = z2_view,
	.corrupt = sim_slcan_corrupt,
	.emit = z2_emit,
	.emit_ms = 200,
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
	.hv = 1,
	.default_cells = Z2_CELLS,
};
