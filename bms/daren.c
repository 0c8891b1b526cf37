/* SPDX-License-Identifier: MIT */
/* bms/daren.c - Daren / Basen "DR-1363" BMS (DR48100JC-03-V2, DR-JC03 and
 * the packs built on it), and the KS48100 firmware, whose frames start with
 * '>' instead of '~'.
 *
 * bms/PROTOCOLS.md §8 (framing, shared: bms/base/pylonframe.c) and §21.  A poll
 * sends, to ADR = `address`, with VER 0x22 and CID1 0x4A:
 *	0x42 real-time data  INFO = ADR   ~22014A42E00201FD28
 *	0x47 system parameters (INFO = ADR): the BMS's own settings, only in
 *	     a poll marked settings_due (§21.5); refused, unanswered or
 *	     broken: the poll goes on without them
 *	0x51 manufacturer information (no INFO) and 0xB0 module 3 (INFO =
 *	     ADR 01 03 FF 00: the pack serial): the identity, while not known
 * The start character is found per pack: a try that gets no answer
 * switches between '~' and '>' until one is answered, which is then kept
 * (persist) - KS48100 packs answer only '>' (§21.1).
 *
 * 0x42 answer INFO: DATAFLAG, SOC (u16 0.01 %), voltage (u16 10 mV), m, m x
 * cell mV (u16), ambient, pack average and MOS temperature (s16 0.1 degC),
 * n, n x cell temperature (s16 0.1 degC), current (s16 10 mA, + =
 * charging), internal resistance (u16), SOH (u16 %), a user-defined count
 * (u8), full (u16 10 mAh), remaining (u16 10 mAh), cycles (u16), 15 status
 * words (u16), machine status (u8), IO status (u16).
 *	words 0 voltage, 1 current, 2 temperature, 3 alarm, 4 FET (b0
 *	discharge, b1 charge MOSFET on: §21.3), 5-8 cell OV / UV protection /
 *	alarm bitmaps (cells 1-16), 9 / 10 balancing (cells 1-16 / 17-32),
 *	11-14 the bitmaps of cells 17-32.
 * raw_alarms[]: the words 0..3.
 *
 * Progress in struct bms_poll: step = index into drn_steps[] (the table
 * core of bms/base/pylonframe.c); persist
 * DRN_P_KNOWN a start character was answered, DRN_P_KS it is '>'.
 */
#include "bms.h"
#include "bus.h"

#include <stdio.h>
#include <string.h>

#include "drivers.h"
#include "pylonframe.h"

#define DRN_VER 0x22
#define DRN_MAX_ADR 15
#define DRN_NWORDS 15           /* status words */
#define DRN_SN_OFF 6            /* B0 answer: B0 ADR 01 03 FF <len>, then the pack serial */
#define DRN_SN_LEN 20
#define DRN_PAR_WORDS 12        /* 0x47: DATAFLAG, 12 words, two 20-byte barcodes */
#define DRN_PAR_MIN (1 + 2 * DRN_PAR_WORDS)
#define DRN_PAR_MAX (DRN_PAR_MIN + 40)
#define DRN_P_KNOWN 0x1u
#define DRN_P_KS 0x2u           /* the pack answers '>' frames (KS48100) */

#define L2 BMS_AL_PROTECTION
/* the status words 0 voltage, 1 current, 2 temperature, 3 alarm (§21.3) */
static const struct bms_alarm_rule drn_rules[] = {
	{ 0, 0, BMS_AL_CELL_OV | L2 }, { 0, 1, BMS_AL_CELL_UV | L2 }, { 0, 2, BMS_AL_PACK_OV | L2 },
	{ 0, 3, BMS_AL_PACK_UV | L2 }, { 0, 4, BMS_AL_CELL_OV }, { 0, 5, BMS_AL_CELL_UV }, { 0, 6, BMS_AL_PACK_OV },
	{ 0, 7, BMS_AL_PACK_UV }, { 0, 8, BMS_AL_CELL_DIFF }, { 0, 13, BMS_AL_HW_FAULT }, /* fuse */
	{ 0, 14, BMS_AL_CELL_DIFF | L2 },
	{ 1, 2, BMS_AL_CHG_OC | L2 }, { 1, 3, BMS_AL_SHORT | L2 }, { 1, 4, BMS_AL_DSG_OC | L2 },
	{ 1, 5, BMS_AL_DSG_OC | L2 }, { 1, 6, BMS_AL_CHG_OC }, { 1, 7, BMS_AL_DSG_OC },
	{ 2, 0, BMS_AL_CHG_OT | L2 }, { 2, 1, BMS_AL_CHG_UT | L2 }, { 2, 2, BMS_AL_DSG_OT | L2 },
	{ 2, 3, BMS_AL_DSG_UT | L2 }, { 2, 4, BMS_AL_OTHER | L2 }, { 2, 5, BMS_AL_OTHER | L2 },
	{ 2, 6, BMS_AL_MOS_OT | L2 }, { 2, 8, BMS_AL_CHG_OT }, { 2, 9, BMS_AL_CHG_UT }, { 2, 10, BMS_AL_DSG_OT },
	{ 2, 11, BMS_AL_DSG_UT }, { 2, 12, BMS_AL_OTHER }, { 2, 13, BMS_AL_OTHER }, { 2, 14, BMS_AL_MOS_OT },
	{ 3, 0, BMS_AL_CELL_DIFF }, { 3, 1, BMS_AL_HW_FAULT }, { 3, 2, BMS_AL_SENSOR }, { 3, 3, BMS_AL_HW_FAULT },
	{ 3, 4, BMS_AL_MOS_FAULT }, { 3, 5, BMS_AL_MOS_FAULT }, { 3, 6, BMS_AL_HW_FAULT }, { 3, 7, BMS_AL_SOC_LOW },
};
#undef L2
#define DRN_FET_DSG 0x01
#define DRN_FET_CHG 0x02

/* The start character of the next try: the one answered, else the one
 * whose turn it is. */
static uint8_t drn_soi(const struct bms_poll *poll)
{
	return (poll->persist & DRN_P_KS) ? BMS_PYLONFRAME_SOI_KS : BMS_PYLONFRAME_SOI;
}

static size_t drn_info_adr(const struct bms_poll *poll, uint8_t *info)
{
	info[0] = poll->address;
	return 1;
}

/* 0xB0 module 3 (manufacturing parameters): ADR, operation 01, module 03, FF, 00 */
static size_t drn_info_module(const struct bms_poll *poll, uint8_t *info)
{
	static const uint8_t rest[4] = { 0x01, 0x03, 0xFF, 0x00 };
	info[0] = poll->address;
	memcpy(info + 1, rest, sizeof(rest));
	return 1 + sizeof(rest);
}

/* The documented INFO of a 0x42 answer with m cells and n cell sensors. */
static size_t drn_len(unsigned m, unsigned n)
{
	return 1u + 4u + 1u + 2u * m + 6u + 1u + 2u * n + 2u + 2u + 2u + 1u + 6u + 2u * DRN_NWORDS + 3u;
}

static int drn_cells_temps(struct bms_pylonframe_rd *r, struct bms_snapshot *s, size_t ninfo)
{
	int rc = bms_pylonframe_cells(r, s->cell_mv);
	if (rc < 0)
		return rc;
	unsigned m = (unsigned)rc;
	float ambient = (float)bms_pylonframe_s16(r) / 10.0f;
	(void)bms_pylonframe_s16(r); /* the pack's average: no sensor of its own */
	s->mos_temp_c = (float)bms_pylonframe_s16(r) / 10.0f;
	unsigned n = bms_pylonframe_u8(r);
	if (r->bad)
		return BMS_E_SHORT;
	if (n + 1u > BMS_MAX_TEMPS || ninfo != drn_len(m, n)) /* the counts walk to the end */
		return BMS_E_RANGE;
	for (unsigned i = 0; i < n; i++)
		s->temp_c[i] = (float)bms_pylonframe_s16(r) / 10.0f;
	s->temp_c[n] = ambient;
	s->ntemps = (uint8_t)(n + 1);
	s->ncells = (uint8_t)m;
	return BMS_OK;
}

static int drn_analog(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_snapshot s;
	struct bms_pylonframe_rd r;
	memset(&s, 0, sizeof(s));
	bms_pylonframe_rd_init(&r, info, ninfo);
	bms_pylonframe_skip(&r, 1); /* DATAFLAG */
	uint16_t soc = bms_pylonframe_u16(&r), cv = bms_pylonframe_u16(&r);
	int rc = drn_cells_temps(&r, &s, ninfo);
	if (rc < 0)
		return rc;
	int16_t cur = bms_pylonframe_s16(&r);
	bms_pylonframe_skip(&r, 2); /* internal resistance */
	uint16_t soh = bms_pylonframe_u16(&r);
	bms_pylonframe_skip(&r, 1); /* user-defined count */
	uint16_t full = bms_pylonframe_u16(&r), remain = bms_pylonframe_u16(&r);
	s.cycles = bms_pylonframe_u16(&r);
	uint16_t w[DRN_NWORDS];
	for (int i = 0; i < DRN_NWORDS; i++)
		w[i] = bms_pylonframe_u16(&r);
	if (r.bad)
		return BMS_E_SHORT;
	if (poll->cells_forced && poll->cells_forced < s.ncells)
		s.ncells = poll->cells_forced;
	s.current = (float)cur / 100.0f;
	if (poll->invert_current)
		s.current = -s.current;
	s.voltage = (float)cv / 100.0f;
	s.soc = soc > 10000 ? 100.0f : (float)soc / 100.0f;
	s.soh = soh > 100 ? 100.0f : (float)soh;
	s.full_ah = (float)full / 100.0f;
	s.remain_ah = (float)remain / 100.0f;
	s.alarms = bms_alarm_map(w, 4, drn_rules, sizeof(drn_rules) / sizeof(drn_rules[0]));
	if (w[5] | w[6] | w[11] | w[12])
		s.alarms |= BMS_AL_PROTECTION; /* a cell's own over- / under-voltage protection */
	s.nraw = 4;
	memcpy(s.raw_alarms, w, 4 * sizeof(w[0]));
	s.dsg_mos = (w[4] & DRN_FET_DSG) != 0;
	s.chg_mos = (w[4] & DRN_FET_CHG) != 0;
	s.balance = (uint32_t)w[9] | (uint32_t)w[10] << 16;
	s.present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_FULL |
		    BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |
		    BMS_HAS_BALANCE | BMS_HAS_ALARMS;
	poll->snap = s;
	return BMS_OK;
}

/* 0x51: hardware type, product code, project code (10 ASCII each),
 * software version (3 bytes), boot version (2 bytes). */
static int drn_maker(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_ident *id = &poll->kept.ident;
	char hw[11], product[11], project[11];
	if (ninfo < 33)
		return BMS_E_SHORT;
	memset(id, 0, sizeof(*id)); /* the first identity answer: a new identity */
	bms_ident_text(hw, sizeof(hw), info, 10);
	bms_ident_text(product, sizeof(product), info + 10, 10);
	bms_ident_text(project, sizeof(project), info + 20, 10);
	snprintf(id->model, sizeof(id->model), "%s%s%s%s%s", product, product[0] ? " " : "", project,
		 project[0] && hw[0] ? " " : "", hw);
	snprintf(id->firmware, sizeof(id->firmware), "%02u.%02u.%02u", info[30], info[31], info[32]);
	return BMS_OK;
}

/* 0xB0 module 3: the pack serial. */
static int drn_module(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	if (ninfo < DRN_SN_OFF + DRN_SN_LEN || info[0] != 0xB0 || info[3] != 0x03)
		return BMS_E_UNEXPECTED;
	bms_ident_text(poll->kept.ident.pack_serial, sizeof(poll->kept.ident.pack_serial), info + DRN_SN_OFF,
		       DRN_SN_LEN);
	poll->kept.ident_state = BMS_IDENT_HAVE;
	return BMS_OK;
}

/* 0x47 system parameters (§21.5, DAREN-02): DATAFLAG, 12 words (cell
 * voltage upper / lower limit mV, two temperature limits, two pack voltage
 * limits and two current limits of unknown scale, cell count, capacity,
 * history interval, balancing mode), two 20-byte barcodes.  Shown: the cell
 * limits and the cell count; the rest no source gives a scale that fits
 * the capture. */
static int drn_param(struct bms_poll *poll, const uint8_t *info, size_t ninfo)
{
	struct bms_pylonframe_rd r;
	uint16_t w[DRN_PAR_WORDS];
	if (ninfo > DRN_PAR_MAX)
		return BMS_E_RANGE;
	bms_pylonframe_rd_init(&r, info, ninfo);
	bms_pylonframe_skip(&r, 1); /* DATAFLAG */
	for (int i = 0; i < DRN_PAR_WORDS; i++)
		w[i] = bms_pylonframe_u16(&r);
	if (r.bad)
		return BMS_E_SHORT;
	struct bms_settings *st = &poll->kept.settings;
	bms_settings_put_raw(st, BMS_SET_CELL_OVP_V, w[0], 1000, 5000, 1000.0);
	bms_settings_put_raw(st, BMS_SET_CELL_UVP_V, w[1], 1000, 5000, 1000.0);
	bms_settings_put_raw(st, BMS_SET_CELL_COUNT, w[7], 1, BMS_LV_MAX_CELLS, 1.0);
	return BMS_OK;
}

/* A frame of the pack came: its start character is answered. */
static void drn_answered(struct bms_poll *poll, uint8_t soi)
{
	poll->persist = (poll->persist & ~DRN_P_KS) | DRN_P_KNOWN | (soi == BMS_PYLONFRAME_SOI_KS ? DRN_P_KS : 0);
}

/* The real-time data failed a try: while no start character is known, the
 * next try asks with the other one; a known one is asked once more, then
 * the search starts again. */
static void drn_missed(struct bms_poll *poll)
{
	if (poll->persist & DRN_P_KNOWN)
		poll->persist &= ~DRN_P_KNOWN;
	else
		poll->persist ^= DRN_P_KS;
}

static const struct bms_paceic_step drn_steps[] = {
	{ 0x42, false, drn_info_adr, drn_analog },
	{ 0x47, false, drn_info_adr, drn_param }, /* settings_steps: when due */
	{ 0x51, true, NULL, drn_maker },
	{ 0xB0, true, drn_info_module, drn_module },
};

static const struct bms_paceic drn_proto = {
	.ver = DRN_VER,
	.cid1 = BMS_PYLONFRAME_CID1_4A,
	.min_address = 1,
	.max_address = DRN_MAX_ADR,
	.sois = "~>",
	.steps = drn_steps,
	.nsteps = sizeof(drn_steps) / sizeof(drn_steps[0]),
	.settings_steps = 1u << 1,
	.soi = drn_soi,
	.answered = drn_answered,
	.missed = drn_missed,
};

BMS_PACEIC_DRIVER_FUNCS(drn, drn_proto)

/* Identification (§27): the poll's first read, 0x42 of ADR 1 (VER 0x22,
 * CID1 0x4A), first with '~', then with KS48100's '>' (§21.1). */
static void drn_probe_prepare(struct bms_poll *poll)
{
	if (poll->attempt & 1)
		poll->persist |= DRN_P_KS;
}

static void drn_probe_judge(const struct bms_poll *poll, const uint8_t *buf, size_t len, struct bms_probe_result *r)
{
	static const uint8_t vers[] = { DRN_VER, 0 };
	bms_paceic_probe_judge(&bms_daren_driver, vers, poll, buf, len, r);
}

static const struct bms_probe drn_probe = {
	.bauds = { 19200, 9600 },
	.addrs = { 1 },
	.naddrs = 1,
	.rank = 12,
	.tries = 2,
	.gap = 0.05,
	.timeout = 0.3,
	.prepare = drn_probe_prepare,
	.judge = drn_probe_judge,
};

/* Listen mode (bms/bus.h): the answers to the requests of its own poll. */
BMS_LISTEN_REPLAY(drn, bms_daren_driver, bms_bus_paceic_at, bms_listen_same_paceic)

const struct bms_driver bms_daren_driver = {
	.name = "daren",
	.description = "Daren / Basen DR-1363 and KS48100 RS485 (~22..4A...CR or >22..., 0x42/0x51/0xB0)",
	.vendor = "Daren",
	.protocol_id = 15,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	/* 0x47 system parameters, when the settings are due (§21.5) */
	.settings = BMS_SET_BIT(BMS_SET_CELL_OVP_V) | BMS_SET_BIT(BMS_SET_CELL_UVP_V) | BMS_SET_BIT(BMS_SET_CELL_COUNT),
	.default_baud = 19200,
	BMS_PYLONFRAME_LINK(1, DRN_MAX_ADR),
	.any_address = true,
	.default_timeout = 1.0,
	.next_request = drn_next_request,
	.listen = &drn_listen,
	.scan = drn_scan,
	.handle = drn_handle,
	.timeout = drn_timeout,
	.finish = bms_finish_pack,
	.probe = &drn_probe,
};
