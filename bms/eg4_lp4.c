/* SPDX-License-Identifier: MIT */
/* bms/eg4_lp4.c - EG4 LifePower4 (Qualtech QT-YS00-16SV100A boards):
 * "paceic" version 2.0 with CID1 0x4A.
 *
 * bms/PROTOCOLS.md §8 (framing, shared: bms/base/pylonframe.c) and §20.  A poll
 * sends, to ADR = `address`, with VER 0x20, CID1 0x4A and no INFO at all
 * (EG4 takes no command byte):
 *	0x42 analog values   ~20014A420000FDA2
 *	0x44 alarms, status  ~20014A440000FDA0
 *	0x51 manufacturer information: the identity, while not known
 * with at least 200 ms of silence before each request and 2 s for the
 * answer (gap_floor, default_timeout).
 *
 * 0x42 answer INFO: DATA_FLAG, PACK group, M, M x cell mV (u16), N (the
 * cell sensors), N + 2 temperatures (u16 0.1 K, 0 degC = 2731: the cells,
 * environment, MOSFET), current (s16 10 mA, + = charging), voltage (u16
 * 10 mV), remaining (u16 10 mAh), full (u16 10 mAh), cycles (u16), a
 * user-defined count (u8), SOC (u16 %), SOH (u16 %), then extremes and
 * counters not used (max / min cell, difference, max / min temperature,
 * six u32 totals, two u16 counts).
 *
 * 0x44 answer INFO: DATA_FLAG, PACK group, M, M cell alarm bytes, N, N + 2
 * temperature alarm bytes, current and voltage alarm, a user-defined count,
 * then: balance event, voltage event, temperature event (u16), current
 * event, remaining-capacity alarm, FET status (b0 discharge, b1 charge
 * MOSFET on, b2 current limiter, b3 heater), system status (b0
 * discharging, b1 charging, b3 standby), balance status (u32, bit n = cell
 * n + 1), reserved.
 * raw_alarms[]: [0] voltage event << 8 | current event, [1] temperature
 *	event, [2] balance event << 8 | remaining-capacity alarm, [3] FET
 *	status << 8 | system status.
 */
#include "bms.h"
#include "bus.h"

#include <string.h>

#include "drivers.h"
#include "pylonframe.h"

#define LP4_VER 0x20
#define LP4_MAX_ADR 15
#define LP4_KELVIN_DK 2731      /* 0 degC in 0.1 K (§20.2) */
#define LP4_EXTRA_TEMPS 2       /* environment, MOSFET after the N cell sensors */
#define LP4_TAIL42 38           /* bytes after SOH: extremes and totals */
#define LP4_EVENTS 13           /* the user-defined bytes of 0x44 */

#define L2 BMS_AL_PROTECTION
/* words: 0 balance event, 1 voltage event, 2 temperature event, 3 current
 * event, 4 remaining-capacity alarm */
static const struct bms_alarm_rule lp4_rules[] = {
	{ 0, 4, BMS_AL_CELL_DIFF }, { 0, 5, BMS_AL_MOS_FAULT }, { 0, 6, BMS_AL_MOS_FAULT },
	{ 1, 0, BMS_AL_CELL_OV }, { 1, 1, BMS_AL_CELL_OV | L2 }, { 1, 2, BMS_AL_CELL_UV }, { 1, 3, BMS_AL_CELL_UV | L2 },
	{ 1, 4, BMS_AL_PACK_OV }, { 1, 5, BMS_AL_PACK_OV | L2 }, { 1, 6, BMS_AL_PACK_UV }, { 1, 7, BMS_AL_PACK_UV | L2 },
	{ 2, 0, BMS_AL_CHG_OT }, { 2, 1, BMS_AL_CHG_OT | L2 }, { 2, 2, BMS_AL_CHG_UT }, { 2, 3, BMS_AL_CHG_UT | L2 },
	{ 2, 4, BMS_AL_DSG_OT }, { 2, 5, BMS_AL_DSG_OT | L2 }, { 2, 6, BMS_AL_DSG_UT }, { 2, 7, BMS_AL_DSG_UT | L2 },
	{ 2, 8, BMS_AL_OTHER }, { 2, 9, BMS_AL_OTHER | L2 }, { 2, 10, BMS_AL_OTHER }, { 2, 11, BMS_AL_OTHER | L2 },
	{ 2, 12, BMS_AL_MOS_OT | L2 }, { 2, 13, BMS_AL_OTHER | L2 }, /* fire alarm */
	{ 3, 0, BMS_AL_CHG_OC }, { 3, 1, BMS_AL_CHG_OC | L2 }, { 3, 2, BMS_AL_DSG_OC }, { 3, 3, BMS_AL_DSG_OC | L2 },
	{ 3, 4, BMS_AL_DSG_OC | L2 }, { 3, 5, BMS_AL_SHORT | L2 }, { 3, 6, BMS_AL_DSG_OC | L2 },
	{ 3, 7, BMS_AL_SHORT | L2 },
	{ 4, 0, BMS_AL_SOC_LOW },
};
#undef L2
#define LP4_FET_DSG 0x01
#define LP4_FET_CHG 0x02
#define LP4_SYS_DSG 0x01
#define LP4_SYS_CHG 0x02

/* The documented INFO of an answer with m cells and nt cell sensors
 * (after DATA_FLAG and PACK group). */
static size_t lp4_len(bool analog, unsigned m, unsigned nt)
{
	unsigned t = nt + LP4_EXTRA_TEMPS;
	return analog ? 2u + 1u + 2u * m + 1u + 2u * t + 15u + LP4_TAIL42 : 2u + 1u + m + 1u + t + 3u + LP4_EVENTS;
}

/* The counts of an answer: M at info[2], N after the cells; false if
 * they cannot be right (too many, or the INFO does not hold them). */
static bool lp4_counts(const uint8_t *info, size_t n, bool analog, unsigned *m, unsigned *nt)
{
	if (n < 3)
		return false;
	*m = info[2];
	size_t at = 3u + (analog ? 2u * *m : *m);
	if (*m > BMS_LV_MAX_CELLS || at >= n)
		return false;
	*nt = info[at];
	size_t want = lp4_len(analog, *m, *nt);
	return *nt + LP4_EXTRA_TEMPS <= BMS_MAX_TEMPS && n == want; /* the counts walk to the end */
}

static int lp4_analog(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	unsigned m, nt;
	if (!lp4_counts(info, ninfo, true, &m, &nt))
		return ninfo < 3 ? BMS_E_SHORT : BMS_E_RANGE;
	struct bms_snapshot s;
	memset(&s, 0, sizeof(s));
	struct bms_pylonframe_rd r;
	bms_pylonframe_rd_init(&r, info, ninfo);
	bms_pylonframe_skip(&r, 3); /* DATA_FLAG, PACK group, M */
	for (unsigned i = 0; i < m; i++)
		s.cell_mv[i] = bms_pylonframe_u16(&r);
	bms_pylonframe_skip(&r, 1); /* N */
	for (unsigned i = 0; i < nt + LP4_EXTRA_TEMPS; i++) {
		float t = (float)((int)bms_pylonframe_u16(&r) - LP4_KELVIN_DK) / 10.0f;
		if (i == nt + 1) {
			s.mos_temp_c = t;
		} else {
			s.temp_c[s.ntemps++] = t;
		}
	}
	int16_t cur = bms_pylonframe_s16(&r);
	uint16_t cv = bms_pylonframe_u16(&r), remain = bms_pylonframe_u16(&r), full = bms_pylonframe_u16(&r);
	s.cycles = bms_pylonframe_u16(&r);
	bms_pylonframe_skip(&r, 1); /* user-defined count */
	uint16_t soc = bms_pylonframe_u16(&r), soh = bms_pylonframe_u16(&r);
	if (r.bad)
		return BMS_E_SHORT;
	s.ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < m ? poll->cells_forced : m);
	s.current = (float)cur / 100.0f;
	if (poll->invert_current)
		s.current = -s.current;
	s.voltage = (float)cv / 100.0f;
	s.remain_ah = (float)remain / 100.0f;
	s.full_ah = (float)full / 100.0f;
	s.soc = soc > 100 ? 100.0f : (float)soc;
	s.soh = soh > 100 ? 100.0f : (float)soh;
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_FULL |
		    BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP;
	poll->snap = s;
	return BMS_OK;
}

static int lp4_alarm(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	unsigned m, nt;
	if (!lp4_counts(info, ninfo, false, &m, &nt))
		return ninfo < 3 ? BMS_E_SHORT : BMS_E_UNEXPECTED; /* a late 0x42 does not fit */
	struct bms_snapshot *s = &poll->snap;
	struct bms_pylonframe_rd r;
	uint32_t al = 0;
	bms_pylonframe_rd_init(&r, info, ninfo);
	bms_pylonframe_skip(&r, 3);
	for (unsigned i = 0; i < m; i++)
		al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(&r), BMS_AL_CELL_UV, BMS_AL_CELL_OV, BMS_AL_OTHER);
	bms_pylonframe_skip(&r, 1);
	for (unsigned i = 0; i < nt + LP4_EXTRA_TEMPS; i++)
		al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(&r), BMS_AL_CHG_UT | BMS_AL_DSG_UT,
						 i == nt + 1 ? BMS_AL_MOS_OT : BMS_AL_CHG_OT | BMS_AL_DSG_OT,
						 BMS_AL_SENSOR);
	/* one current alarm for both directions: the current event tells which */
	al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(&r), BMS_AL_OTHER, BMS_AL_OTHER, BMS_AL_OTHER);
	al |= bms_pylonframe_state_alarm(bms_pylonframe_u8(&r), BMS_AL_PACK_UV, BMS_AL_PACK_OV, BMS_AL_OTHER);
	bms_pylonframe_skip(&r, 1); /* user-defined count */
	uint16_t w[5];
	w[0] = bms_pylonframe_u8(&r);
	w[1] = bms_pylonframe_u8(&r);
	w[2] = bms_pylonframe_u16(&r);
	w[3] = bms_pylonframe_u8(&r);
	w[4] = bms_pylonframe_u8(&r);
	uint8_t fet = bms_pylonframe_u8(&r), sys = bms_pylonframe_u8(&r);
	uint32_t bal = (uint32_t)bms_pylonframe_u16(&r) << 16;
	bal |= bms_pylonframe_u16(&r);
	if (r.bad)
		return BMS_E_SHORT;
	s->alarms = al | bms_alarm_map(w, 5, lp4_rules, sizeof(lp4_rules) / sizeof(lp4_rules[0]));
	s->nraw = 4;
	s->raw_alarms[0] = (uint16_t)(w[1] << 8 | w[3]);
	s->raw_alarms[1] = w[2];
	s->raw_alarms[2] = (uint16_t)(w[0] << 8 | w[4]);
	s->raw_alarms[3] = (uint16_t)(fet << 8 | sys);
	s->chg_mos = (fet & LP4_FET_CHG) != 0;
	s->dsg_mos = (fet & LP4_FET_DSG) != 0;
	s->state = (sys & LP4_SYS_CHG) ? 1 : (sys & LP4_SYS_DSG) ? 2 : 0;
	s->balance = bal;
	s->present |= BMS_HAS_ALARMS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE;
	return BMS_OK;
}

/* 0x51 (layout not documented for EG4, §20.4): a name (20 bytes), a
 * software version (2 bytes), the manufacturer (20 bytes), then 4 bytes. */
static int lp4_maker(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_ident *id = &poll->kept.ident;
	if (ninfo < 42)
		return BMS_E_SHORT;
	memset(id, 0, sizeof(*id));
	bms_ident_text(id->model, sizeof(id->model), info, 20);
	bms_ident_text(id->vendor, sizeof(id->vendor), info + 22, 20);
	poll->kept.ident_state = BMS_IDENT_HAVE;
	return BMS_OK;
}

static const struct bms_paceic_step lp4_steps[] = {
	{ 0x42, false, NULL, lp4_analog },
	{ 0x44, false, NULL, lp4_alarm },
	{ 0x51, true, NULL, lp4_maker },
};

static const struct bms_paceic lp4_proto = {
	.ver = LP4_VER,
	.cid1 = BMS_PYLONFRAME_CID1_4A,
	.min_address = 1,
	.max_address = LP4_MAX_ADR,
	.sois = "~",
	.steps = lp4_steps,
	.nsteps = sizeof(lp4_steps) / sizeof(lp4_steps[0]),
};

BMS_PACEIC_DRIVER_FUNCS(lp4, lp4_proto)

/* Identification (§27): the poll's first read, 0x42 of ADR 1
 * (VER 0x20, CID1 0x4A) after the 200 ms of silence EG4 needs; its firmware
 * is slow, so it gets the longest wait of all probes. */
static void lp4_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	static const uint8_t vers[] = { 0x20, 0 };
	bms_paceic_probe_judge(&bms_eg4_lp4_driver, vers, poll, buf, len, r);
}

static const struct bms_probe lp4_probe = {
	.bauds = { 9600 },
	.addrs = { 1 },
	.naddrs = 1,
	.rank = 13,
	.gap = 0.2,
	.timeout = 1.0,
	.judge = lp4_probe_judge,
};

/* Listen mode (bms/bus.h): the answers to the requests of its own poll. */
BMS_LISTEN_REPLAY(lp4, bms_eg4_lp4_driver, bms_bus_paceic_at, bms_listen_same_paceic)

const struct bms_driver bms_eg4_lp4_driver = {
	.name = "eg4-lp4",
	.description = "EG4 LifePower4 paceic v2.0 RS485 (~20..4A...CR ASCII, 0x42/0x44/0x51)",
	.vendor = "EG4",
	.protocol_id = 14,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	.default_baud = 9600,
	/* at least 200 ms between requests: EG4's firmware misses faster ones
	 * (nkinnan/esphome-pace-bms README, §20.1) */
	.gap_floor = 0.2,
	.interbyte = 0.2,
	.min_address = 1,
	.max_address = LP4_MAX_ADR,
	.any_address = true,
	.default_timeout = 2.0,
	.next_request = lp4_next_request,
	.listen = &lp4_listen,
	.scan = lp4_scan,
	.handle = lp4_handle,
	.timeout = lp4_timeout,
	.finish = bms_finish_pack,
	.probe = &lp4_probe,
};
