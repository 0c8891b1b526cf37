/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pace.c - PACE BMS paceic v2.5, the BMS side
 * (bms/PROTOCOLS.md §8, §19).  Framing: sim_pylonframe.c; VER 0x25, CID1
 * 0x46.  Encoded here; bms/ is deliberately not used.
 *
 * Requests to ADR = a pack's address:
 *   0x42, 0x44 with INFO = a pack number: that pack's record (the pack
 *         itself, or another pack of the bus relayed by the one asked, as
 *         a master does); INFO = FF: a record for every pack of the bus,
 *         in --pack order, preceded by their count (a master's answer
 *         for all).
 *   0xD1, 0xD3, 0xD5, 0xD7, 0xB6 (no INFO): the protection configuration
 *         of nkinnan's example answers (cell 3.60 / 3.70 / 3.38 V, 2.80 /
 *         2.50 / 2.90 V, 1 s; pack 57.6 / 59.2 / 54.0 V, 44.8 / 40.0 / 46.4
 *         V; balancing from 3.40 V at 30 mV); not with nosettings=1
 *         (firmware that ignores them).
 *   0xC1 (no INFO): hardware version "P16S100A-SIM-1.00", 20 bytes.
 *   0xC2 (no INFO): BMS serial "SIMBMS<address>" and pack serial
 *         "SIMPACK<address>", 20 bytes each.
 * Answers come from the pack's address, or from `reply_adr`.
 *   0x42 record: n cells, m temperatures (0.1 K + 2730: the cell sensors,
 *         and with 4 of them the documented six: cells 1-4, MOSFET,
 *         environment (the pack's fifth temperature slot)), current 10 mA,
 *         voltage mV, remaining 10 mAh, P = 3, full 10 mAh, cycles,
 *         design 10 mAh, and with `junk` one more byte (the SOC, as real
 *         packs send it).
 *   0x44 record: n cell states and m temperature states (00), the three
 *         current / voltage states (00), protect 1 / 2 = alarm bytes 0 /
 *         1, system (b1 charge, b2 discharge MOSFET on, b3 discharging,
 *         b5 charging), control 00, fault = alarm byte 2, balance cells
 *         1-8 / 9-16, warn 1 / 2 = alarm bytes 3 / 4; `junk` adds a byte.
 */
#include "sim.h"
#include "sim_pylonframe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PACE_VER 0x25
#define PACE_ALL 0xFF
#define PACE_KELVIN_DK 2730
#define PACE_MAX_CELLS 16       /* two balance bytes */
#define PACE_CELL_SENSORS 4

struct pace_raw {
	int ncells;
	unsigned cell_mv[SIM_MAX_CELLS];
	int ntemps;                     /* on the wire */
	int temp_c[PACE_CELL_SENSORS + 2];
	int mos;                        /* the documented six: index 4 is the MOSFET */
	long current_ca;                /* 10 mA */
	unsigned volt_mv, remain_cah, full_cah, cycles, balance;
	uint8_t system;
};

static void pace_quantise(const struct sim_pack *p, struct pace_raw *r)
{
	memset(r, 0, sizeof *r);
	unsigned long sum = sim_pylonframe_cells(p, PACE_MAX_CELLS, r->cell_mv, &r->ncells);
	r->volt_mv = (unsigned)sim_pylonframe_clamp((long)sum, 0, 65535);
	int sensors = p->ntemps > PACE_CELL_SENSORS ? PACE_CELL_SENSORS : p->ntemps;
	for (int i = 0; i < sensors; i++)
		r->temp_c[i] = p->temp_c[i];
	r->ntemps = sensors;
	if (sensors == PACE_CELL_SENSORS) {
		r->temp_c[4] = p->mos_temp_c;
		r->temp_c[5] = p->temp_c[4];
		r->ntemps = 6;
		r->mos = 1;
	}
	r->current_ca = sim_pylonframe_clamp(lround(p->current * 100.0), -32768, 32767);
	r->full_cah = (unsigned)sim_pylonframe_clamp(lround(p->capacity_ah * 100.0), 0, 65535);
	r->remain_cah = (unsigned)lround(r->full_cah * p->soc / 100.0);
	r->cycles = p->cycles & 0xFFFF;
	r->balance = (unsigned)(p->balance & ((1u << r->ncells) - 1) & 0xFFFF);
	r->system = (uint8_t)((p->chg_mos ? 0x02 : 0) | (p->dsg_mos ? 0x04 : 0) | (r->current_ca < 0 ? 0x08 : 0) |
			      (r->current_ca > 0 ? 0x20 : 0));
}

static void pace_view(const struct sim_pack *p, struct sim_view *v)
{
	struct pace_raw r;

	pace_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_REMAIN | SIM_HAS_CAPACITY | SIM_HAS_CYCLES | SIM_HAS_MOSFETS | SIM_HAS_CELLS |
	         SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_BALANCE;
	v->address = p->address;
	v->voltage = r.volt_mv / 1000.0;
	v->current = r.current_ca / 100.0;
	if (r.full_cah) {
		v->has |= SIM_HAS_SOC;
		v->soc = r.remain_cah >= r.full_cah ? 100.0 : r.remain_cah * 100.0 / r.full_cah;
	}
	v->remaining_ah = r.remain_cah / 100.0;
	v->capacity_ah = r.full_cah / 100.0;
	v->cycles = r.cycles;
	v->ncells = r.ncells;
	for (int i = 0; i < r.ncells; i++)
		v->cell_mv[i] = (int)r.cell_mv[i];
	v->ntemps = 0;
	for (int i = 0; i < r.ntemps; i++) {
		if (r.mos && i == 4) {
			v->has |= SIM_HAS_MOS_TEMP;
			v->mos_temp_c = r.temp_c[i];
		} else {
			v->temp_c[v->ntemps++] = r.temp_c[i];
		}
	}
	v->chg_mos = p->chg_mos ? 1 : 0;
	v->dsg_mos = p->dsg_mos ? 1 : 0;
	v->nalarm = 5; /* protect 1, protect 2, fault, warn 1, warn 2 */
	memcpy(v->alarm, p->alarm, 5);
	v->balance = r.balance;
}

static void pace_rec42(struct sim_pylonframe_info *in, const struct sim_pack *p)
{
	struct pace_raw r;

	pace_quantise(p, &r);
	sim_pylonframe_put8(in, (unsigned)r.ncells);
	for (int i = 0; i < r.ncells; i++)
		sim_pylonframe_put16(in, r.cell_mv[i]);
	sim_pylonframe_put8(in, (unsigned)r.ntemps);
	for (int i = 0; i < r.ntemps; i++)
		sim_pylonframe_put16(in, (unsigned)(r.temp_c[i] * 10 + PACE_KELVIN_DK));
	sim_pylonframe_put16(in, (unsigned)(r.current_ca & 0xFFFF));
	sim_pylonframe_put16(in, r.volt_mv);
	sim_pylonframe_put16(in, r.remain_cah);
	sim_pylonframe_put8(in, 3);
	sim_pylonframe_put16(in, r.full_cah);
	sim_pylonframe_put16(in, r.cycles);
	sim_pylonframe_put16(in, r.full_cah); /* design */
	if (p->junk)
		sim_pylonframe_put8(in, r.full_cah ? (unsigned)lround(r.remain_cah * 100.0 / r.full_cah) : 0);
}

static void pace_rec44(struct sim_pylonframe_info *in, const struct sim_pack *p)
{
	struct pace_raw r;

	pace_quantise(p, &r);
	sim_pylonframe_put8(in, (unsigned)r.ncells);
	for (int i = 0; i < r.ncells; i++)
		sim_pylonframe_put8(in, 0);
	sim_pylonframe_put8(in, (unsigned)r.ntemps);
	for (int i = 0; i < r.ntemps; i++)
		sim_pylonframe_put8(in, 0);
	for (int i = 0; i < 3; i++)
		sim_pylonframe_put8(in, 0); /* charge current, voltage, discharge current */
	sim_pylonframe_put8(in, p->alarm[0]);
	sim_pylonframe_put8(in, p->alarm[1]);
	sim_pylonframe_put8(in, r.system);
	sim_pylonframe_put8(in, 0); /* control */
	sim_pylonframe_put8(in, p->alarm[2]);
	sim_pylonframe_put8(in, r.balance & 0xFF);
	sim_pylonframe_put8(in, (r.balance >> 8) & 0xFF);
	sim_pylonframe_put8(in, p->alarm[3]);
	sim_pylonframe_put8(in, p->alarm[4]);
	if (p->junk)
		sim_pylonframe_put8(in, 0);
}

static const struct sim_pack *pace_pack_no(int no)
{
	for (int i = 0; i < sim_bus_npacks(); i++)
		if (sim_bus_pack(i)->address == no)
			return sim_bus_pack(i);
	return NULL;
}

/* The INFO of a settings read (length first), NULL for another command. */
static const uint8_t *pace_settings(uint8_t cid2)
{
	static const uint8_t d1[] = { 8, 0x01, 0x0E, 0x10, 0x0E, 0x74, 0x0D, 0x34, 0x0A };
	static const uint8_t d3[] = { 8, 0x01, 0x0A, 0xF0, 0x09, 0xC4, 0x0B, 0x54, 0x0A };
	static const uint8_t d5[] = { 8, 0x01, 0xE1, 0x00, 0xE7, 0x40, 0xD2, 0xF0, 0x0A };
	static const uint8_t d7[] = { 8, 0x01, 0xAF, 0x00, 0x9C, 0x40, 0xB5, 0x40, 0x0A };
	static const uint8_t b6[] = { 4, 0x0D, 0x48, 0x00, 0x1E };
	switch (cid2) {
	case 0xD1: return d1;
	case 0xD3: return d3;
	case 0xD5: return d5;
	case 0xD7: return d7;
	case 0xB6: return b6;
	default: return NULL;
	}
}

static enum sim_resp pace_respond(struct sim_pack *p, const uint8_t *req, size_t n, struct sim_reply *reply)
{
	struct sim_pylonframe_req q;
	struct sim_pylonframe_info in;
	char text[32];

	if (sim_pylonframe_parse(req, n, &q) || q.cid1 != SIM_PYLONFRAME_CID1)
		return SIM_RESP_BAD;
	memset(&in, 0, sizeof in);
	const uint8_t *set = pace_settings(q.cid2);
	if (set) {
		if (q.ninfo != 0)
			return SIM_RESP_BAD;
		if (p->dialect == 'N')
			return SIM_RESP_NONE; /* `nosettings`: firmware that ignores them */
		for (size_t i = 1; i <= set[0]; i++)
			sim_pylonframe_put8(&in, set[i]);
	} else if (q.cid2 == 0xC1 || q.cid2 == 0xC2) {
		if (q.ninfo != 0)
			return SIM_RESP_BAD;
		if (q.cid2 == 0xC1) {
			sim_pylonframe_text(&in, "P16S100A-SIM-1.00", 20);
		} else {
			snprintf(text, sizeof text, "SIMBMS%d", p->address);
			sim_pylonframe_text(&in, text, 20);
			snprintf(text, sizeof text, "SIMPACK%d", p->address);
			sim_pylonframe_text(&in, text, 20);
		}
	} else if (q.cid2 == 0x42 || q.cid2 == 0x44) {
		if (q.ninfo != 1)
			return SIM_RESP_BAD;
		sim_pylonframe_put8(&in, 0x00); /* INFOFLAG */
		sim_pylonframe_put8(&in, q.info[0] == PACE_ALL ? (unsigned)sim_bus_npacks() : q.info[0]);
		for (int i = 0; i < sim_bus_npacks(); i++) {
			const struct sim_pack *o = q.info[0] == PACE_ALL ? sim_bus_pack(i) : pace_pack_no(q.info[0]);
			if (!o)
				return SIM_RESP_NONE; /* no such pack behind this one */
			if (q.cid2 == 0x42)
				pace_rec42(&in, o);
			else
				pace_rec44(&in, o);
			if (q.info[0] != PACE_ALL)
				break;
		}
	} else {
		return SIM_RESP_BAD;
	}
	if (sim_pylonframe_reply(reply, PACE_VER, (uint8_t)sim_pack_reply_adr(p), 0x00, &in))
		return SIM_RESP_BAD;
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_pace = {
	.name = "pace",
	.default_baud = 9600,
	.addr_min = 0,
	.addr_max = 15,
	.max_cells = PACE_MAX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_pylonframe_scan,
	.address = sim_pylonframe_address,
	.respond = pace_respond,
	.view = pace_view,
	.corrupt = sim_pylonframe_corrupt,
	.reply_adr = 1,
};
