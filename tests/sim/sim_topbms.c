/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_topbms.c - TopBMS V1.7, the BMS side (bms/PROTOCOLS.md §8,
 * §10).  Framing: sim_pylonframe.c.
 *
 * Request 0x42 (any VER; the vendor tool sends 0x21) with INFO = the pack
 * command: the address (1..16) or 0xFF (all packs: answered with a count of
 * 1).  Answer, VER 0x52 like the captured unit (TOP-01):
 *   command value (or count), M, M x cell mV, N, N x (degC + 40) u16,
 *   current s16 10 mA (+ = charge), voltage u16 10 mV, remaining u16 10 mAh,
 *   P = 6: total u16 10 mAh, cycles, SOC u8 %, SOH u8 %, balancing u16
 *   (bit 0 = cell 1), humidity u8 (0), 3 unknown bytes (0).
 * 0x44 and other commands get no answer and count as bad requests.
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"
#include "sim_pylonframe.h"

#include <math.h>
#include <string.h>

#define TOP_VER_ANSWER 0x52
#define TOP_TEMP_OFFSET 40
#define TOP_MAX_CELLS 16            /* 16-bit balancing word */
#define TOP_MAX_TEMPS 8
#define TOP_MAX_PACK 0x10

struct top_raw {
	int ncells;
	unsigned cell_mv[SIM_MAX_CELLS];
	int ntemps;
	int temp_c[SIM_MAX_TEMPS];
	long current_ca;               /* 10 mA */
	unsigned volt_cv;              /* 10 mV */
	unsigned remain_cah, total_cah; /* 10 mAh */
	unsigned cycles, soc, soh, balance;
};

static void top_quantise(const struct sim_pack *p, struct top_raw *r)
{
	memset(r, 0, sizeof *r);
	unsigned long sum = sim_pylonframe_cells(p, TOP_MAX_CELLS, r->cell_mv, &r->ncells);
	r->volt_cv = (unsigned)sim_pylonframe_clamp((long)((sum + 5) / 10), 0, 65535);
	r->ntemps = p->ntemps > TOP_MAX_TEMPS ? TOP_MAX_TEMPS : p->ntemps;
	for (int i = 0; i < r->ntemps; i++)
		r->temp_c[i] = p->temp_c[i]; /* -40..215: +40 fits */
	r->current_ca = sim_pylonframe_clamp(lround(p->current * 100.0), -32768, 32767);
	r->total_cah = (unsigned)sim_pylonframe_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)lround(r->total_cah * p->soc / 100.0);
	r->cycles = p->cycles & 0xFFFF;
	r->soc = (unsigned)sim_pylonframe_clamp(lround(p->soc), 0, 100);
	r->soh = (unsigned)sim_pylonframe_clamp(lround(p->soh), 0, 100);
	r->balance = (unsigned)(p->balance & ((1u << r->ncells) - 1) & 0xFFFF);
}

static void top_view(const struct sim_pack *p, struct sim_view *v)
{
	struct top_raw r;

	top_quantise(p, &r);
	memset(v, 0, sizeof *v);
	/* 0x42 only: no MOSFETs, alarms or MOS temperature */
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES |
	         SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.total_cah / 100.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	v->balance = r.balance;
}

static enum sim_resp top_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                 struct sim_reply *reply)
{
	struct sim_pylonframe_req q;
	struct sim_pylonframe_info in;
	struct top_raw r;
	unsigned cmdval;

	if (sim_pylonframe_parse(req, n, &q) || q.cid1 != SIM_PYLONFRAME_CID1 || q.ninfo != 1 ||
	    q.cid2 != 0x42)
		return SIM_RESP_BAD;
	if (q.info[0] == 0xFF)
		cmdval = 1; /* pack count */
	else if (q.info[0] == q.adr && q.adr <= TOP_MAX_PACK)
		cmdval = q.adr;
	else
		return SIM_RESP_BAD;
	top_quantise(p, &r);
	memset(&in, 0, sizeof in);
	sim_pylonframe_put8(&in, cmdval);
	sim_pylonframe_put8(&in, (unsigned)r.ncells);
	for (int i = 0; i < r.ncells; i++)
		sim_pylonframe_put16(&in, r.cell_mv[i]);
	sim_pylonframe_put8(&in, (unsigned)r.ntemps);
	for (int i = 0; i < r.ntemps; i++)
		sim_pylonframe_put16(&in, (unsigned)(r.temp_c[i] + TOP_TEMP_OFFSET));
	sim_pylonframe_put16(&in, (unsigned)(r.current_ca & 0xFFFF));
	sim_pylonframe_put16(&in, r.volt_cv);
	sim_pylonframe_put16(&in, r.remain_cah);
	sim_pylonframe_put8(&in, 6);
	sim_pylonframe_put16(&in, r.total_cah);
	sim_pylonframe_put16(&in, r.cycles);
	sim_pylonframe_put8(&in, r.soc);
	sim_pylonframe_put8(&in, r.soh);
	sim_pylonframe_put16(&in, r.balance);
	sim_pylonframe_put8(&in, 0);  /* humidity */
	sim_pylonframe_put24(&in, 0); /* 6th item, unknown */
	if (sim_pylonframe_reply(reply, TOP_VER_ANSWER, q.adr, 0x00, &in))
		return SIM_RESP_BAD;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_topbms = {
	.name = "topbms",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 254,
	.max_cells = TOP_MAX_CELLS,
	.max_temps = TOP_MAX_TEMPS,
	.scan = sim_pylonframe_scan,
	.address = sim_pylonframe_address,
	.respond = top_respond,
	.view = top_view,
	.corrupt = sim_pylonframe_corrupt,
};
