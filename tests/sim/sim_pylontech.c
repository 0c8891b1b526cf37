/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pylontech.c - Pylontech US2000/US3000 RS485 protocol V3.3,
 * the BMS side (bms/PROTOCOLS.md §8, §9).  Framing: sim_pylonframe.c.
 *
 * Requests ~20 ADR 46 CID2 LENGTH INFO CHKSUM CR with INFO = one command byte
 * = ADR (0xFF: a system query, answered with a module count of 1).
 *   0x42 analog: INFOFLAG 11, command value, M, M x cell mV, N, N x 0.1 K,
 *        current s16 100 mA (+ = charge), voltage mV, remaining u16 mAh,
 *        P = 2: total u16 mAh, cycles; or P = 4 (capacity above 65.535 Ah):
 *        the u16 capacities 0xFFFF, cycles, remaining and total u24 mAh.
 *   0x44 alarm: DATAFLAG 10, command value, M, M cell states, N, N
 *        temperature states, charge-current, module-voltage and
 *        discharge-current states (all 00), Status1..5.
 *        Status1 = alarm byte 0; Status2 = alarm byte 1 with b1 charge /
 *        b2 discharge MOSFET from the pack; Status3 = alarm byte 2 with b7 /
 *        b6 set from the current direction; Status4/5 = alarm bytes 3/4.
 *   0x92 management info (no DATAFLAG): command value, charge / discharge
 *        voltage limit u16 mV (`cvl`, `dvl`), charge current limit s16
 *        100 mA (`ccl`), discharge current limit s16 100 mA sent negative
 *        (`dcl`, as the recorded answers of bms/PROTOCOLS.md §9.4 do),
 *        status b7 charge enable = chg_set, b6 discharge enable = dsg_set
 *        (`set ADDR chg_set 0` forbids charging).
 * Other commands (and a command byte that is not the address) get no answer
 * and count as bad requests.  Encoded here; bms/ is deliberately not used.
 */
#include "sim.h"
#include "sim_pylonframe.h"

#include <math.h>
#include <string.h>

#define PYL_VER 0x20
#define PYL_KELVIN_DK 2731
#define PYL_MAX_CELLS 16
#define PYL_MAX_TEMPS 8

struct pyl_raw {
	int ncells;
	unsigned cell_mv[SIM_MAX_CELLS];
	int ntemps;
	unsigned temp_dk[SIM_MAX_TEMPS];   /* 0.1 K */
	long current_da;                   /* 100 mA */
	unsigned volt_mv;
	unsigned long remain_mah, total_mah;
	int long_caps;                     /* P = 4 */
	unsigned cycles;
	uint8_t status[5];
	unsigned cvl_mv, dvl_mv;           /* 0x92 */
	long ccl_da, dcl_da;               /* 100 mA; dcl_da <= 0 */
	uint8_t mgmt;                      /* 0x92 status byte */
};

static void pyl_quantise(const struct sim_pack *p, struct pyl_raw *r)
{
	memset(r, 0, sizeof *r);
	unsigned long sum = sim_pylonframe_cells(p, PYL_MAX_CELLS, r->cell_mv, &r->ncells);
	r->volt_mv = (unsigned)sim_pylonframe_clamp((long)sum, 0, 65535);
	r->ntemps = p->ntemps > PYL_MAX_TEMPS ? PYL_MAX_TEMPS : p->ntemps;
	for (int i = 0; i < r->ntemps; i++)
		r->temp_dk[i] = (unsigned)(p->temp_c[i] * 10 + PYL_KELVIN_DK);
	r->current_da = sim_pylonframe_clamp(lround(p->current * 10.0), -32768, 32767);
	r->total_mah = (unsigned long)sim_pylonframe_clamp(lround(p->capacity_ah * 1000.0), 0, 0xFFFFFF);
	r->remain_mah = (unsigned long)lround((double)r->total_mah * p->soc / 100.0);
	r->long_caps = r->total_mah > 0xFFFF;
	r->cycles = p->cycles & 0xFFFF;
	r->status[0] = p->alarm[0];
	r->status[1] = (uint8_t)((p->alarm[1] & ~0x06u) | (p->chg_mos ? 0x02 : 0) | (p->dsg_mos ? 0x04 : 0));
	r->status[2] = (uint8_t)((p->alarm[2] & 0x3Fu) | (r->current_da > 0 ? 0x80 : 0) |
	                         (r->current_da < 0 ? 0x40 : 0));
	r->status[3] = p->alarm[3];
	r->status[4] = p->alarm[4];
	r->cvl_mv = (unsigned)sim_pylonframe_clamp(lround(p->cvl_v * 1000.0), 0, 65535);
	r->dvl_mv = (unsigned)sim_pylonframe_clamp(lround(p->dvl_v * 1000.0), 0, 65535);
	r->ccl_da = sim_pylonframe_clamp(lround(p->ccl_a * 10.0), 0, 32767);
	r->dcl_da = -sim_pylonframe_clamp(lround(p->dcl_a * 10.0), 0, 32768);
	r->mgmt = (uint8_t)((p->chg_set ? 0x80 : 0) | (p->dsg_set ? 0x40 : 0));
}

static void pyl_view(const struct sim_pack *p, struct sim_view *v)
{
	struct pyl_raw r;

	pyl_quantise(p, &r);
	memset(v, 0, sizeof *v);
	/* 0x42 + 0x44: SOC is remaining / total; no SOH, MOS temperature, balancing */
	v->has = SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
	         SIM_HAS_TEMPS | SIM_HAS_ALARMS;
	if (r.total_mah > 0) {
		v->has |= SIM_HAS_SOC;
		v->soc = r.remain_mah >= r.total_mah ? 100.0 : 100.0 * (double)r.remain_mah / (double)r.total_mah;
	}
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.current_da / 10.0;
	v->remaining_ah = r.remain_mah / 1000.0;
	v->capacity_ah = r.total_mah / 1000.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.ntemps;
	for (int i = 0; i < r.ntemps; i++)
		v->temp_c[i] = ((int)r.temp_dk[i] - PYL_KELVIN_DK) / 10;
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 5;
	memcpy(v->alarm, r.status, 5);
	/* 0x92: a direction whose enable bit is clear reads 0 A */
	v->has |= SIM_HAS_CUR_LIMITS | SIM_HAS_VOLT_LIMITS;
	v->ccl_a = (r.mgmt & 0x80) ? r.ccl_da / 10.0 : 0.0;
	v->dcl_a = (r.mgmt & 0x40) ? -r.dcl_da / 10.0 : 0.0;
	v->cvl_v = r.cvl_mv / 1000.0;
	v->dvl_v = r.dvl_mv / 1000.0;
}

/* The 0x47 answer: INFOFLAG, then a LFP module's limits (cell high / low /
 * under 3.70 / 3.05 / 2.90 V, the module's the same times its cells;
 * charge 0..50 degC, discharge -10..60 degC, 0.1 K; the current limits
 * 50 A in 100 mA). */
static void pyl_params(struct sim_pylonframe_info *in, int ncells)
{
	unsigned n = (unsigned)ncells;
	sim_pylonframe_put8(in, 0x11);
	sim_pylonframe_put16(in, 3700);
	sim_pylonframe_put16(in, 3050);
	sim_pylonframe_put16(in, 2900);
	sim_pylonframe_put16(in, PYL_KELVIN_DK + 500);
	sim_pylonframe_put16(in, PYL_KELVIN_DK);
	sim_pylonframe_put16(in, 500);
	sim_pylonframe_put16(in, 3700 * n);
	sim_pylonframe_put16(in, 3050 * n);
	sim_pylonframe_put16(in, 2900 * n);
	sim_pylonframe_put16(in, PYL_KELVIN_DK + 600);
	sim_pylonframe_put16(in, PYL_KELVIN_DK - 100);
	sim_pylonframe_put16(in, 500);
}

static enum sim_resp pyl_respond(struct sim_pack *p, const uint8_t *req, size_t n,
                                 struct sim_reply *reply)
{
	struct sim_pylonframe_req q;
	struct sim_pylonframe_info in;
	struct pyl_raw r;
	unsigned cmdval;

	if (sim_pylonframe_parse(req, n, &q) || q.cid1 != SIM_PYLONFRAME_CID1 || q.ninfo != 1)
		return SIM_RESP_BAD;
	if (q.info[0] == q.adr)
		cmdval = q.adr;
	else if (q.info[0] == 0xFF)
		cmdval = 1; /* system query: one module on this simulated group */
	else
		return SIM_RESP_BAD;
	pyl_quantise(p, &r);
	memset(&in, 0, sizeof in);
	switch (q.cid2) {
	case 0x42:
		sim_pylonframe_put8(&in, 0x11);
		sim_pylonframe_put8(&in, cmdval);
		sim_pylonframe_put8(&in, (unsigned)r.ncells);
		for (int i = 0; i < r.ncells; i++)
			sim_pylonframe_put16(&in, r.cell_mv[i]);
		sim_pylonframe_put8(&in, (unsigned)r.ntemps);
		for (int i = 0; i < r.ntemps; i++)
			sim_pylonframe_put16(&in, r.temp_dk[i]);
		sim_pylonframe_put16(&in, (unsigned)(r.current_da & 0xFFFF));
		sim_pylonframe_put16(&in, r.volt_mv);
		sim_pylonframe_put16(&in, r.long_caps ? 0xFFFF : (unsigned)r.remain_mah);
		sim_pylonframe_put8(&in, r.long_caps ? 4 : 2);
		sim_pylonframe_put16(&in, r.long_caps ? 0xFFFF : (unsigned)r.total_mah);
		sim_pylonframe_put16(&in, r.cycles);
		if (r.long_caps) {
			sim_pylonframe_put24(&in, r.remain_mah);
			sim_pylonframe_put24(&in, r.total_mah);
		}
		break;
	case 0x44:
		sim_pylonframe_put8(&in, 0x10);
		sim_pylonframe_put8(&in, cmdval);
		sim_pylonframe_put8(&in, (unsigned)r.ncells);
		for (int i = 0; i < r.ncells; i++)
			sim_pylonframe_put8(&in, 0);
		sim_pylonframe_put8(&in, (unsigned)r.ntemps);
		for (int i = 0; i < r.ntemps; i++)
			sim_pylonframe_put8(&in, 0);
		for (int i = 0; i < 3; i++)
			sim_pylonframe_put8(&in, 0);
		for (int i = 0; i < 5; i++)
			sim_pylonframe_put8(&in, r.status[i]);
		break;
	case 0x92:
		if (q.info[0] != q.adr)
			return SIM_RESP_BAD; /* one module at a time */
		sim_pylonframe_put8(&in, cmdval);
		sim_pylonframe_put16(&in, r.cvl_mv);
		sim_pylonframe_put16(&in, r.dvl_mv);
		sim_pylonframe_put16(&in, (unsigned)(r.ccl_da & 0xFFFF));
		sim_pylonframe_put16(&in, (unsigned)(r.dcl_da & 0xFFFF));
		sim_pylonframe_put8(&in, r.mgmt);
		break;
	case 0x47: /* system parameters, the BMS's own settings (bms/PROTOCOLS.md §9.6) */
		if (q.info[0] != q.adr)
			return SIM_RESP_BAD;
		if (p->dialect == 'N')
			return SIM_RESP_NONE; /* `nosettings`: firmware that ignores it */
		pyl_params(&in, r.ncells);
		break;
	default:
		return SIM_RESP_BAD;
	}
	if (sim_pylonframe_reply(reply, PYL_VER, q.adr, 0x00, &in))
		return SIM_RESP_BAD;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_pylontech = {
	.name = "pylontech",
	.default_baud = 115200,
	.addr_min = 2,
	.addr_max = 0xFD,
	.max_cells = PYL_MAX_CELLS,
	.max_temps = PYL_MAX_TEMPS,
	.scan = sim_pylonframe_scan,
	.address = sim_pylonframe_address,
	.respond = pyl_respond,
	.view = pyl_view,
	.corrupt = sim_pylonframe_corrupt,
};
