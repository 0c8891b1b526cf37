/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_creabest_vb.c - a Creabest VB series pack over Bluetooth LE,
 * the BMS side of the link as a fake BlueZ bridges it to a TCP port (writes
 * to FFE9 of FFE5 in, notifications of FFE4 of FFE0 out; the requests come
 * in 20-byte writes, one byte stream here).
 *
 * bms/PROTOCOLS.md §67.  Pylontech-style ASCII frames (sim_pylonframe.h):
 * it takes VER 0x11, ADR 1, CID1 0x46 and answers VER 0x22, RTN 0:
 *	0x42 (INFO 01): M cells mV, N temperatures (s16 0.1 degC), current
 *	     (s16 0.1 A), voltage (u16 0.1 V, the cells' sum), SOC (u16 %),
 *	     a byte 0, cycles (u16), six bytes 0, the six problem bytes (alarm
 *	     bytes 0..5)
 *	0x81 (INFO 01 00 01): the capacity (u16 0.1 Ah)
 * Another command, version, address or INFO is a bad request.  Encoded
 * here; bms/ is deliberately not used.
 */
#include "sim.h"

#include <math.h>
#include <string.h>

#include "sim_pylonframe.h"

#define VB_MAX_CELLS 32
#define VB_MAX_TEMPS 8

struct vb_raw {
	int ncells;
	unsigned mv[VB_MAX_CELLS];
	long dv, da, soc, cap_dah;
};

static void vb_quantise(const struct sim_pack *p, struct vb_raw *r)
{
	memset(r, 0, sizeof *r);
	unsigned long sum = sim_pylonframe_cells(p, VB_MAX_CELLS, r->mv, &r->ncells);
	r->dv = sim_pylonframe_clamp((long)(sum / 100), 0, 65535);
	r->da = sim_pylonframe_clamp(lround(p->current * 10.0), -32768, 32767);
	r->soc = sim_pylonframe_clamp(lround(p->soc), 0, 100);
	r->cap_dah = sim_pylonframe_clamp(lround(p->capacity_ah * 10.0), 0, 65535);
}

static void vb_view(const struct sim_pack *p, struct sim_view *v)
{
	struct vb_raw r;
	vb_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	v->address = p->address;
	v->voltage = (double)r.dv / 10.0;
	v->current = (double)r.da / 10.0;
	v->soc = (double)r.soc;
	v->capacity_ah = (double)r.cap_dah / 10.0;
	v->cycles = p->cycles & 0xFFFF;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.mv[i];
	v->ntemps = p->ntemps < VB_MAX_TEMPS ? p->ntemps : VB_MAX_TEMPS;
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = p->temp_c[i];
	v->nalarm = 6;
	memcpy(v->alarm, p->alarm, 6);
}

static int vb_address(const uint8_t *req, size_t n)
{
	(void)req;
	(void)n;
	return 1; /* one BMS per connection */
}

static enum sim_resp vb_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	static struct sim_pylonframe_req q;
	struct sim_pylonframe_info i;
	struct vb_raw r;
	if (sim_pylonframe_parse(req, n, &q) < 0 || q.soi != '~' || q.ver != 0x11 || q.adr != 1 ||
	    q.cid1 != SIM_PYLONFRAME_CID1)
		return SIM_RESP_BAD;
	memset(&i, 0, sizeof i);
	vb_quantise(p, &r);
	if (q.cid2 == 0x42 && q.ninfo == 1 && q.info[0] == 1) {
		int nt = p->ntemps < VB_MAX_TEMPS ? p->ntemps : VB_MAX_TEMPS;
		sim_pylonframe_put8(&i, (unsigned)r.ncells);
		for (int k = 0; k < r.ncells; k++)
			sim_pylonframe_put16(&i, r.mv[k]);
		sim_pylonframe_put8(&i, (unsigned)nt);
		for (int k = 0; k < nt; k++)
			sim_pylonframe_put16(&i, (unsigned)(uint16_t)(int16_t)(p->temp_c[k] * 10));
		sim_pylonframe_put16(&i, (unsigned)(uint16_t)(int16_t)r.da);
		sim_pylonframe_put16(&i, (unsigned)r.dv);
		sim_pylonframe_put16(&i, (unsigned)r.soc);
		sim_pylonframe_put8(&i, 0);
		sim_pylonframe_put16(&i, p->cycles & 0xFFFF);
		for (int k = 0; k < 6; k++)
			sim_pylonframe_put8(&i, 0);
		for (int k = 0; k < 6; k++)
			sim_pylonframe_put8(&i, p->alarm[k]);
	} else if (q.cid2 == 0x81 && q.ninfo == 3 && q.info[0] == 1 && q.info[1] == 0 && q.info[2] == 1) {
		sim_pylonframe_put16(&i, (unsigned)r.cap_dah);
	} else {
		return SIM_RESP_BAD;
	}
	return sim_pylonframe_reply(reply, 0x22, 1, 0, &i) < 0 ? SIM_RESP_BAD : SIM_RESP_OK;
}

const struct sim_proto sim_proto_creabest_vb = {
	.name = "creabest-vb",
	.default_baud = 115200,
	.addr_min = 1,
	.addr_max = 1, /* no address: one BMS per connection */
	.max_cells = VB_MAX_CELLS,
	.max_temps = VB_MAX_TEMPS,
	.scan = sim_pylonframe_scan,
	.address = vb_address,
	.respond = vb_respond,
	.view = vb_view,
	.corrupt = sim_pylonframe_corrupt,
	.ble_name = "VB024001223",
};
