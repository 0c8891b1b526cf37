/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_lolan.c - the Lolan BMS over Bluetooth LE, the BMS side of
 * its FFE0 link as a fake BlueZ bridges it to a TCP port (writes to FFE2 in,
 * notifications of FFE1 out).
 *
 * bms/PROTOCOLS.md §76.  A request is 6 bytes: the function u16 and the
 * password u32, big-endian.  A password other than the pack's `pin` (the
 * maker's 12345678 without one) is answered 21 1D 1A E3 ("invalid
 * password"; counted in pin_refused); with the right one C5 65 is answered
 * with the 40-byte status (01 00, the switches: bit 0 the discharge, bit 1
 * the charge MOSFET; alarm byte 0 as the error bits; big-endian IEEE-754
 * floats: the voltage (the cells' sum) at 4, the discharge current at 8,
 * the charge current at 12 (the other 0), the first two sensors at 16, 20,
 * the discharged and charged totals at 24, 28, the runtime u32 at 32;
 * cycles u16 at 36, SOC u16 at 38) and 5B 65 with the 88-byte cell frame
 * (02 00 <count>, the balancer voltage 3.35 at 20, the cells as floats from
 * 24, at most 16).  No checksum.  Another function is a bad request.  One
 * device per connection.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LL_CELLS 16

static void be32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static void bef(uint8_t *b, float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	be32(b, u);
}

/* What the wire carries: a float's value, as a reader decodes it. */
static double as_float(double v)
{
	return (double)(float)v;
}

static void ll_view(const struct sim_pack *p, struct sim_view *v)
{
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_MOSFETS | SIM_HAS_ALARMS;
	v->address = p->address;
	int n = p->ncells > LL_CELLS ? LL_CELLS : p->ncells;
	long mv = 0;
	for (int i = 0; i < n; i++) {
		v->cell_mv[i] = (int)lround(as_float(sim_pack_cell_mv(p, i) / 1000.0) * 1000.0);
		mv += sim_pack_cell_mv(p, i);
	}
	v->ncells = n;
	v->voltage = as_float(mv / 1000.0);
	v->current = p->current < 0 ? -as_float(-p->current) : as_float(p->current);
	v->soc = lround(p->soc);
	v->cycles = p->cycles & 0xFFFF;
	v->ntemps = 2;
	v->temp_c[0] = p->temp_c[0];
	v->temp_c[1] = p->temp_c[1];
	v->chg_mos = p->chg_mos;
	v->dsg_mos = p->dsg_mos;
	v->nalarm = 1;
	v->alarm[0] = p->alarm[0];
}

static enum sim_scan ll_scan(const uint8_t *buf, size_t len, size_t *n)
{
	(void)buf;
	if (len < 6)
		return SIM_SCAN_NEED;
	*n = 6;
	return SIM_SCAN_FRAME;
}

static int ll_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one device per connection */
}

static enum sim_resp ll_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static const uint8_t refused[4] = { 0x21, 0x1D, 0x1A, 0xE3 };
	uint8_t f[88];
	unsigned fn = (unsigned)req[0] << 8 | req[1];
	if (n != 6 || (fn != 0xC565 && fn != 0x5B65))
		return SIM_RESP_BAD;
	char pw[16];
	snprintf(pw, sizeof pw, "%lu", (unsigned long)((uint32_t)req[2] << 24 | (uint32_t)req[3] << 16 |
						       (uint32_t)req[4] << 8 | req[5]));
	p->authed = 0; /* the password comes with every request */
	if (!sim_pin_try(p, pw, strlen(pw), "12345678")) {
		sim_reply_add(reply, refused, sizeof refused);
		return SIM_RESP_OK;
	}
	memset(f, 0, sizeof f);
	int cells = p->ncells > LL_CELLS ? LL_CELLS : p->ncells;
	if (fn == 0xC565) {
		long mv = 0;
		for (int i = 0; i < cells; i++)
			mv += sim_pack_cell_mv(p, i);
		f[0] = 0x01;
		f[2] = (uint8_t)((p->dsg_mos ? 0x01 : 0) | (p->chg_mos ? 0x02 : 0));
		f[3] = p->alarm[0];
		bef(f + 4, (float)(mv / 1000.0));
		bef(f + 8, (float)(p->current < 0 ? -p->current : 0.0));
		bef(f + 12, (float)(p->current > 0 ? p->current : 0.0));
		bef(f + 16, (float)p->temp_c[0]);
		bef(f + 20, (float)p->temp_c[1]);
		bef(f + 24, 78.79f);
		bef(f + 28, 49.83f);
		be32(f + 32, 3423086);
		f[36] = (uint8_t)(p->cycles >> 8);
		f[37] = (uint8_t)p->cycles;
		f[38] = 0;
		f[39] = (uint8_t)lround(p->soc);
		sim_reply_add(reply, f, 40);
	} else {
		f[0] = 0x02;
		f[2] = (uint8_t)cells;
		bef(f + 20, 3.35f);
		for (int i = 0; i < cells; i++)
			bef(f + 24 + 4 * i, (float)(sim_pack_cell_mv(p, i) / 1000.0));
		sim_reply_add(reply, f, 88);
	}
	return SIM_RESP_OK;
}

/* badsum: no checksum exists: the type byte spoilt (the reader skips it) */
static void ll_corrupt(uint8_t *frame, size_t n)
{
	if (n >= 1)
		frame[0] = 0x7E;
}

const struct sim_proto sim_proto_lolan = {
	.name = "lolan",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one device per connection */
	.max_cells = LL_CELLS,
	.max_temps = 2,
	.scan = ll_scan,
	.address = ll_address,
	.respond = ll_respond,
	.view = ll_view,
	.corrupt = ll_corrupt,
	.ble_name = "LOLAN8S45A",
};
