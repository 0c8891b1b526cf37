/* SPDX-License-Identifier: MIT */
/* tests/sim/sim_pylon_can.c - a battery speaking Pylontech LV CAN V1.2 to its
 * inverter, as a Lawicel slcan adapter on that bus delivers it to a host
 * (bms/PROTOCOLS.md §26; gateway/inverter/PROTOCOLS.md §1 and §5).
 *
 * The adapter side: sim_slcan.c (the host's lines, its commands; a
 * transmit line of the host is never put on the bus, counted in
 * can_frames_heard).
 *
 * The battery side, once a second while the channel is open, one line per
 * frame ("tIIIL<data>\r", upper case):
 *	dialect v12 (default): 0x351 (8) CVL, CCL, DCL, DVL; 0x355 (4) SOC,
 *	SOH; 0x356 (6) voltage, current, temperature; 0x359 (7) alarm bytes
 *	0-3, modules 1, "PN"; 0x35C (2) b7 charge enable = chg_set, b6
 *	discharge enable = dsg_set, | alarm byte 4 (force charge, full charge
 *	request); 0x35E (8) "PYLON" padded with spaces.  The DLCs of the real
 *	battery (setfirelabs' capture).
 *	dialect v13 (newer firmware, Victron-style sets): no 0x359 nor 0x35C;
 *	0x351 (8), 0x355 (8) with the SOC in 0.01 % in bytes 4-5, 0x356 (8),
 *	0x35A (8) = alarm bytes 0-7 as they are (SMA's message pairs), 0x35E
 *	(8) "SIMV13" NUL padded, 0x35F (8) capacity in bytes 4-5; as
 *	Seplos' and Pytes' Victron sets (PYLONCAN-03, -04) also 0x356's
 *	bytes 6-7 the cycles, 0x373 (8) the lowest / highest cell mV and the
 *	lowest / highest sensor in K, 0x379 (8) the capacity Ah.  No cell list
 *	in either dialect.
 * Scalings: 0.1 V, 0.1 A (+ = charging), 1 % (SOC rounded), 0.01 V,
 * 0.1 degC; CCL 0 while chg_set is 0 (v12 sends the enable bit clear as
 * well), DCL likewise.  junk=1 adds frames the decoder must pass over: an
 * inverter's 0x305, an extended frame, a remote frame of 0x351, 0x370.
 * Faults apply to what the battery sends: silent (no cycle), badsum (each
 * line's DLC digit made impossible), truncate, garbage.
 * Encoded here; bms/ is deliberately not used.
 */
#include "sim_slcan.h"

#include <math.h>
#include <string.h>

struct pc_raw {
	long cvl, ccl, dcl, dvl; /* 0.1 V, 0.1 A */
	long soc, soc_hi, soh;   /* %, 0.01 %, % */
	long v, i, t;            /* 0.01 V, 0.1 A, 0.1 degC */
	long cmax, cmin;         /* the highest and lowest cell, mV (0x373) */
	long tmax, tmin;         /* the highest and lowest sensor, K (0x373) */
	long cycles, ah;         /* 0x356 bytes 6-7, 0x379 */
};

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void pc_quantise(const struct sim_pack *p, struct pc_raw *r)
{
	long sum = 0;
	for (int i = 0; i < p->ncells; i++)
		sum += sim_pack_cell_mv(p, i);
	r->cvl = clampl(lround(p->cvl_v * 10.0), 0, 0xFFFF);
	r->dvl = clampl(lround(p->dvl_v * 10.0), 0, 0xFFFF);
	r->ccl = p->chg_set ? clampl(lround(p->ccl_a * 10.0), 0, 0x7FFF) : 0;
	r->dcl = p->dsg_set ? clampl(lround(p->dcl_a * 10.0), 0, 0x7FFF) : 0;
	r->soc = clampl(lround(p->soc), 0, 100);
	r->soc_hi = clampl(lround(p->soc * 100.0), 0, 10000);
	r->soh = clampl(lround(p->soh), 0, 100);
	r->v = clampl(lround(sum / 10.0), 0, 0x7FFF);
	r->i = clampl(lround(p->current * 10.0), -0x7FFF, 0x7FFF);
	r->t = clampl(p->temp_c[0] * 10L, -0x7FFF, 0x7FFF);
	r->cmax = 0, r->cmin = 0xFFFF;
	for (int i = 0; i < p->ncells; i++) {
		long mv = sim_pack_cell_mv(p, i);
		r->cmax = mv > r->cmax ? mv : r->cmax;
		r->cmin = mv < r->cmin ? mv : r->cmin;
	}
	r->tmax = r->tmin = p->temp_c[0];
	for (int i = 1; i < p->ntemps; i++) {
		r->tmax = p->temp_c[i] > r->tmax ? p->temp_c[i] : r->tmax;
		r->tmin = p->temp_c[i] < r->tmin ? p->temp_c[i] : r->tmin;
	}
	r->tmax = clampl(r->tmax + 273, 1, 0xFFFF);
	r->tmin = clampl(r->tmin + 273, 1, 0xFFFF);
	r->cycles = (long)(p->cycles & 0xFFFF);
	r->ah = clampl(lround(p->capacity_ah), 0, 0xFFFF);
}

static void pc_view(const struct sim_pack *p, struct sim_view *v)
{
	struct pc_raw r;
	pc_quantise(p, &r);
	memset(v, 0, sizeof *v);
	v->has = SIM_HAS_SOC | SIM_HAS_SOH | SIM_HAS_TEMPS | SIM_HAS_ALARMS | SIM_HAS_CUR_LIMITS |
		 SIM_HAS_VOLT_LIMITS;
	v->address = p->address;
	v->voltage = r.v / 100.0;
	v->current = r.i / 10.0;
	/* v13's 0.01 % SOC agrees with the 1 % one: a reader takes it */
	v->soc = p->dialect == 13 ? r.soc_hi / 100.0 : (double)r.soc;
	v->soh = (double)r.soh;
	v->ntemps = 1;
	v->temp_c[0] = (int)(r.t / 10);
	v->nalarm = p->dialect == 13 ? 8 : 5;
	memcpy(v->alarm, p->alarm, (size_t)v->nalarm);
	v->ccl_a = r.ccl / 10.0;
	v->dcl_a = r.dcl / 10.0;
	v->cvl_v = r.cvl / 10.0;
	v->dvl_v = r.dvl / 10.0;
	if (p->dialect != 13)
		return;
	v->has |= SIM_HAS_CELL_EXT | SIM_HAS_TEMP_EXT | SIM_HAS_CAPACITY | (r.cycles ? SIM_HAS_CYCLES : 0);
	v->cell_max_mv = (int)r.cmax;
	v->cell_min_mv = (int)r.cmin;
	v->tmax_c = r.tmax - 273.15;
	v->tmin_c = r.tmin - 273.15;
	v->capacity_ah = (double)r.ah;
	v->cycles = (unsigned)r.cycles;
}

static void pc_junk(struct sim_reply *reply, int before)
{
	static const uint8_t zero[8];
	static const uint8_t ext[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	if (before) {
		sim_slcan_line(reply, 'r', 0x351, NULL, 8); /* a remote frame of 0x351 */
		sim_slcan_line(reply, 'T', 0x18FF50E5, ext, 8); /* an extended frame */
	} else {
		sim_slcan_line(reply, 't', 0x305, zero, 8); /* an inverter's answer */
		sim_slcan_line(reply, 't', 0x370, ext, 8); /* an extra of another emitter */
	}
}

/* The Victron set's 0x373 and 0x379. */
static void pc_victron(const struct pc_raw *r, struct sim_reply *reply)
{
	uint8_t d[8];
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, r->cmin);
	sim_slcan_put16(d + 2, r->cmax);
	sim_slcan_put16(d + 4, r->tmin);
	sim_slcan_put16(d + 6, r->tmax);
	sim_slcan_line(reply, 't', 0x373, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, r->ah);
	sim_slcan_line(reply, 't', 0x379, d, 8);
}

static enum sim_resp pc_emit(struct sim_pack *p, struct sim_reply *reply)
{
	struct pc_raw r;
	uint8_t d[8];
	if (!p->can_open)
		return SIM_RESP_NONE; /* the adapter's channel is closed: nothing reaches the host */
	pc_quantise(p, &r);
	if (p->junk)
		pc_junk(reply, 1);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, r.cvl);
	sim_slcan_put16(d + 2, r.ccl);
	sim_slcan_put16(d + 4, r.dcl);
	sim_slcan_put16(d + 6, r.dvl);
	sim_slcan_line(reply, 't', 0x351, d, 8);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, r.soc);
	sim_slcan_put16(d + 2, r.soh);
	if (p->dialect == 13)
		sim_slcan_put16(d + 4, r.soc_hi);
	sim_slcan_line(reply, 't', 0x355, d, p->dialect == 13 ? 8 : 4);
	memset(d, 0, sizeof d);
	sim_slcan_put16(d, r.v);
	sim_slcan_put16(d + 2, r.i);
	sim_slcan_put16(d + 4, r.t);
	if (p->dialect == 13)
		sim_slcan_put16(d + 6, r.cycles);
	sim_slcan_line(reply, 't', 0x356, d, p->dialect == 13 ? 8 : 6);
	if (p->dialect == 13) {
		sim_slcan_line(reply, 't', 0x35A, p->alarm, 8);
		memset(d, 0, sizeof d);
		memcpy(d, "SIMV13", 6);
		sim_slcan_line(reply, 't', 0x35E, d, 8);
		memset(d, 0, sizeof d);
		sim_slcan_put16(d + 4, lround(p->capacity_ah));
		sim_slcan_line(reply, 't', 0x35F, d, 8);
		pc_victron(&r, reply);
	} else {
		memcpy(d, p->alarm, 4);
		d[4] = 1;
		d[5] = 'P';
		d[6] = 'N';
		sim_slcan_line(reply, 't', 0x359, d, 7);
		memset(d, 0, sizeof d);
		d[0] = (uint8_t)((p->chg_set ? 0x80 : 0) | (p->dsg_set ? 0x40 : 0) | (p->alarm[4] & 0x38));
		sim_slcan_line(reply, 't', 0x35C, d, 2);
		memcpy(d, "PYLON   ", 8);
		sim_slcan_line(reply, 't', 0x35E, d, 8);
	}
	if (p->junk)
		pc_junk(reply, 0);
	return SIM_RESP_OK;
}

const struct sim_proto sim_proto_pylon_can = {
	.name = "pylon-can",
	.default_baud = 115200, /* the adapter's serial line */
	.addr_min = 1,
	.addr_max = 1, /* one battery talks on the bus */
	.max_cells = SIM_MAX_CELLS,
	.max_temps = SIM_MAX_TEMPS,
	.scan = sim_slcan_scan,
	.address = sim_slcan_address,
	.respond = sim_slcan_respond,
	.view = pc_view,
	.corrupt = sim_slcan_corrupt,
	.emit = pc_emit,
	.emit_ms = 1000,
	/* one latency for every reply: an adapter answers its commands in order */
	.latency_min_ms = 1,
	.latency_max_ms = 1,
	.slcan = 1,
};
