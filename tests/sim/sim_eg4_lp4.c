/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_eg4_lp4.c - EG4 LifePower4 (paceic v2.0, CID1 0x4A), the BMS
 * side (bms/PROTOCOLS.md §8, §20).  Framing: sim_pylonframe.c.  Encoded
 * here; bms/ is deliberately not used.
 *
 * Requests to ADR = a pack's address, VER 0x20, CID1 0x4A, no INFO:
 *   0x42: DATA_FLAG 00, PACK group 01, M, M x cell mV, N (the cell
 *         sensors, at most 4), N + 2 temperatures (0.1 K + 2731: the cell
 *         sensors, environment = the pack's next temperature slot, MOSFET),
 *         current 10 mA, voltage 10 mV, remaining and full 10 mAh, cycles,
 *         15, SOC %, SOH %, max / min cell, difference, max / min
 *         temperature, six u32 totals (0), two u16 counts (0).
 *   0x44: DATA_FLAG, group, M, M cell alarms (00), N, N + 2 temperature
 *         alarms (00), current and voltage alarm (00), 9, then balance
 *         event = alarm byte 0, voltage event = byte 1, temperature event =
 *         bytes 2 << 8 | 3, current event = byte 4, remaining-capacity
 *         alarm = byte 5, FET status (b0 discharge, b1 charge MOSFET),
 *         system status (b0 discharging, b1 charging, b3 standby), balance
 *         status u32, 00.
 *   0x51: name "EG4-SIM" (20), software 00 00, maker "QTHN" (20), 30 64 03 06.
 * Answers come from the pack's address, or from `reply_adr`.
 */
#include "sim.h"
#include "sim_pylonframe.h"

#include <math.h>
#include <string.h>

#define LP4_VER 0x20
#define LP4_CID1 0x4A
#define LP4_KELVIN_DK 2731
#define LP4_MAX_CELLS 16
#define LP4_CELL_SENSORS 4

struct lp4_raw {
	int ncells;
	unsigned cell_mv[SIM_MAX_CELLS];
	int nt;                         /* cell sensors */
	int temp_c[LP4_CELL_SENSORS + 2];
	long current_ca;
	unsigned volt_cv, remain_cah, full_cah, cycles, soc, soh;
	uint8_t fet, sys;
	uint32_t balance;
};

static void lp4_quantise(const struct sim_pack *p, struct lp4_raw *r)
{
	memset(r, 0, sizeof *r);
	unsigned long sum = sim_pylonframe_cells(p, LP4_MAX_CELLS, r->cell_mv, &r->ncells);
	r->volt_cv = (unsigned)sim_pylonframe_clamp((long)((sum + 5) / 10), 0, 65535);
	r->nt = p->ntemps > LP4_CELL_SENSORS ? LP4_CELL_SENSORS : p->ntemps;
	for (int i = 0; i < r->nt; i++)
		r->temp_c[i] = p->temp_c[i];
	r->temp_c[r->nt] = p->temp_c[r->nt];
	r->temp_c[r->nt + 1] = p->mos_temp_c;
	r->current_ca = sim_pylonframe_clamp(lround(p->current * 100.0), -32768, 32767);
	r->full_cah = (unsigned)sim_pylonframe_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)lround(r->full_cah * p->soc / 100.0);
	r->cycles = p->cycles & 0xFFFF;
	r->soc = (unsigned)lround(p->soc);
	r->soh = (unsigned)lround(p->soh);
	r->fet = (uint8_t)((p->dsg_mos ? 0x01 : 0) | (p->chg_mos ? 0x02 : 0));
	r->sys = r->current_ca > 0 ? 0x02 : r->current_ca < 0 ? 0x01 : 0x08;
	r->balance = (uint32_t)(p->balance & ((1u << r->ncells) - 1));
}

static void lp4_view(const struct sim_pack *p, struct sim_view *v)
{
	struct lp4_raw r;

	lp4_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOS_TEMP |
	         SIM_HAS_MOSFETS | SIM_HAS_CELLS | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_cv / 100.0;
	v->current = r.current_ca / 100.0;
	v->soc = r.soc;
	v->soh = r.soh;
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = r.nt + 1; /* the cell sensors and the environment */
	for (int i = 0; i < v->ntemps; i++)
		v->temp_c[i] = r.temp_c[i];
	v->mos_temp_c = r.temp_c[r.nt + 1];
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 6;
	memcpy(v->alarm, p->alarm, 6);
	v->balance = r.balance;
}

static void lp4_analog(struct sim_pylonframe_info *in, const struct lp4_raw *r)
{
	unsigned mx = 0, mn = 65535;
	sim_pylonframe_put8(in, (unsigned)r->ncells);
	for (int i = 0; i < r->ncells; i++) {
		sim_pylonframe_put16(in, r->cell_mv[i]);
		mx = r->cell_mv[i] > mx ? r->cell_mv[i] : mx;
		mn = r->cell_mv[i] < mn ? r->cell_mv[i] : mn;
	}
	sim_pylonframe_put8(in, (unsigned)r->nt);
	for (int i = 0; i < r->nt + 2; i++)
		sim_pylonframe_put16(in, (unsigned)(r->temp_c[i] * 10 + LP4_KELVIN_DK));
	sim_pylonframe_put16(in, (unsigned)(r->current_ca & 0xFFFF));
	sim_pylonframe_put16(in, r->volt_cv);
	sim_pylonframe_put16(in, r->remain_cah);
	sim_pylonframe_put16(in, r->full_cah);
	sim_pylonframe_put16(in, r->cycles);
	sim_pylonframe_put8(in, 15);
	sim_pylonframe_put16(in, r->soc);
	sim_pylonframe_put16(in, r->soh);
	sim_pylonframe_put16(in, mx);
	sim_pylonframe_put16(in, mn);
	sim_pylonframe_put16(in, mx - mn);
	sim_pylonframe_put16(in, (unsigned)(r->temp_c[0] * 10 + LP4_KELVIN_DK));
	sim_pylonframe_put16(in, (unsigned)(r->temp_c[0] * 10 + LP4_KELVIN_DK));
	for (int i = 0; i < 6; i++) {
		sim_pylonframe_put16(in, 0);
		sim_pylonframe_put16(in, 0);
	}
	sim_pylonframe_put16(in, 0);
	sim_pylonframe_put16(in, 0);
}

static void lp4_alarm(struct sim_pylonframe_info *in, const struct sim_pack *p, const struct lp4_raw *r)
{
	sim_pylonframe_put8(in, (unsigned)r->ncells);
	for (int i = 0; i < r->ncells; i++)
		sim_pylonframe_put8(in, 0);
	sim_pylonframe_put8(in, (unsigned)r->nt);
	for (int i = 0; i < r->nt + 2; i++)
		sim_pylonframe_put8(in, 0);
	sim_pylonframe_put8(in, 0);
	sim_pylonframe_put8(in, 0);
	sim_pylonframe_put8(in, 9);
	for (int i = 0; i < 6; i++)
		sim_pylonframe_put8(in, p->alarm[i]);
	sim_pylonframe_put8(in, r->fet);
	sim_pylonframe_put8(in, r->sys);
	sim_pylonframe_put16(in, (unsigned)(r->balance >> 16));
	sim_pylonframe_put16(in, (unsigned)(r->balance & 0xFFFF));
	sim_pylonframe_put8(in, 0);
}

static enum sim_resp lp4_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	struct sim_pylonframe_req q;
	struct sim_pylonframe_info in;
	struct lp4_raw r;

	if (sim_pylonframe_parse(req, n, &q) || q.cid1 != LP4_CID1 || q.ninfo != 0 || q.soi != '~')
		return SIM_RESP_BAD;
	lp4_quantise(p, &r);
	memset(&in, 0, sizeof in);
	if (q.cid2 == 0x42 || q.cid2 == 0x44) {
		sim_pylonframe_put8(&in, 0x00); /* DATA_FLAG */
		sim_pylonframe_put8(&in, 0x01); /* PACK group */
		if (q.cid2 == 0x42)
			lp4_analog(&in, &r);
		else
			lp4_alarm(&in, p, &r);
	} else if (q.cid2 == 0x51) {
		static const uint8_t tail[4] = { 0x30, 0x64, 0x03, 0x06 };
		sim_pylonframe_text(&in, "EG4-SIM", 20);
		sim_pylonframe_put16(&in, 0);
		sim_pylonframe_text(&in, "QTHN", 20);
		for (int i = 0; i < 4; i++)
			sim_pylonframe_put8(&in, tail[i]);
	} else {
		return SIM_RESP_BAD;
	}
	if (sim_pylonframe_reply_ex(reply, '~', LP4_VER, (uint8_t)sim_pack_reply_adr(p), LP4_CID1, 0x00, &in))
		return SIM_RESP_BAD;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_eg4_lp4 = {
	.name = "eg4-lp4",
	.default_baud = 9600,
	.addr_min = 1,
	.addr_max = 15,
	.max_cells = LP4_MAX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_pylonframe_scan,
	.address = sim_pylonframe_address,
	.respond = lp4_respond,
	.view = lp4_view,
	.corrupt = sim_pylonframe_corrupt,
	.reply_adr = 1,
};
