/* SPDX-License-Identifier: MIT */
/* bms/pace_modbus.c - PACE BMSs whose RS485 port is set to Modbus (in PbmsTools
 * "Modbus" instead of the paceic ASCII protocol of bms/pace.c): "PACE BMS
 * Modbus Protocol for RS485" V1.3 (2017-06-27), Modbus RTU.
 *
 * bms/PROTOCOLS.md §18 (the master, bms/base/mbmaster.c) and §25.  9600 8N1,
 * slave = the DIP address 1..16.  A poll reads, from slave `address`
 * (registers in decimal, as the document numbers them):
 *	FC03 0 x 37	current (s16 10 mA, + = charging), voltage 10 mV, SOC
 *			and SOH (%), remaining / full / design capacity
 *			(10 mAh), cycles, warning, protection and status/fault
 *			flags, balancing, cells 1-16 (mV), cell temperatures
 *			1-4, MOSFET and environment temperature (s16 0.1 degC)
 *	FC03 150 x 30	version, BMS serial ("model SN") and pack serial, 20
 *			ASCII each (the identity, once)
 *	FC03 60 x 55	the BMS's own parameters (read only, §25.5), only in
 *			a poll marked settings_due
 * The document lists no cell count: the cells are the slots up to the last
 * non-zero one.  No capture of this protocol is public (§25.4).
 * raw_alarms[]: [0] warning (9), [1] protection (10), [2] status/fault (11).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "mbmaster.h"

#define PM_CELLS 16
#define PM_CELL_TEMPS 4
/* MOSFET and environment temperatures may be "invalid" (§25.2): a value
 * outside this range (0.1 degC) is taken as none */
#define PM_TEMP_MIN (-500)
#define PM_TEMP_MAX 1500

enum { PM_B_LIVE, PM_B_IDENT, PM_B_SETTINGS };

enum {
	PM_R_CURRENT = 0,
	PM_R_VOLT = 1,
	PM_R_SOC = 2,
	PM_R_SOH = 3,
	PM_R_REMAIN = 4,
	PM_R_FULL = 5,
	PM_R_CYCLES = 7,
	PM_R_WARNING = 9,
	PM_R_PROTECTION = 10,
	PM_R_STATUS = 11,
	PM_R_BALANCE = 12,
	PM_R_CELL1 = 15,
	PM_R_TEMP1 = 31,
	PM_R_MOS_TEMP = 35,
	PM_R_ENV_TEMP = 36,
	PM_R_LIVE_N = 37,
	PM_R_VERSION = 150,
	PM_R_MODEL_SN = 160,
	PM_R_PACK_SN = 170,
	PM_R_IDENT_N = 30,
	PM_R_SET = 60,
	PM_R_SET_N = 55,
};

static const struct bms_mb_block pm_blocks[] = {
	[PM_B_LIVE] = { BMS_MB_FC_HOLDING, 0, PM_R_LIVE_N, BMS_MB_LIVE },
	[PM_B_IDENT] = { BMS_MB_FC_HOLDING, PM_R_VERSION, PM_R_IDENT_N, BMS_MB_IDENT },
	[PM_B_SETTINGS] = { BMS_MB_FC_HOLDING, PM_R_SET, PM_R_SET_N, BMS_MB_SETTINGS },
};

#define L2 BMS_AL_PROTECTION
/* words: 0 warning, 1 protection, 2 status/fault (§25.3) */
static const struct bms_alarm_rule pm_rules[] = {
	{ 0, 0, BMS_AL_CELL_OV }, { 0, 1, BMS_AL_CELL_UV }, { 0, 2, BMS_AL_PACK_OV }, { 0, 3, BMS_AL_PACK_UV },
	{ 0, 4, BMS_AL_CHG_OC }, { 0, 5, BMS_AL_DSG_OC }, { 0, 8, BMS_AL_CHG_OT }, { 0, 9, BMS_AL_DSG_OT },
	{ 0, 10, BMS_AL_CHG_UT }, { 0, 11, BMS_AL_DSG_UT }, { 0, 12, BMS_AL_OTHER }, { 0, 13, BMS_AL_OTHER },
	{ 0, 14, BMS_AL_MOS_OT }, { 0, 15, BMS_AL_SOC_LOW },
	{ 1, 0, BMS_AL_CELL_OV | L2 }, { 1, 1, BMS_AL_CELL_UV | L2 }, { 1, 2, BMS_AL_PACK_OV | L2 },
	{ 1, 3, BMS_AL_PACK_UV | L2 }, { 1, 4, BMS_AL_CHG_OC | L2 }, { 1, 5, BMS_AL_DSG_OC | L2 },
	{ 1, 6, BMS_AL_SHORT | L2 }, { 1, 7, BMS_AL_OTHER | L2 }, { 1, 8, BMS_AL_CHG_OT | L2 },
	{ 1, 9, BMS_AL_DSG_OT | L2 }, { 1, 10, BMS_AL_CHG_UT | L2 }, { 1, 11, BMS_AL_DSG_UT | L2 },
	{ 1, 12, BMS_AL_MOS_OT | L2 }, { 1, 13, BMS_AL_OTHER | L2 }, { 1, 14, BMS_AL_OTHER | L2 },
	{ 2, 0, BMS_AL_MOS_FAULT }, { 2, 1, BMS_AL_MOS_FAULT }, { 2, 2, BMS_AL_SENSOR }, { 2, 4, BMS_AL_HW_FAULT },
	{ 2, 5, BMS_AL_HW_FAULT },
};
#undef L2
#define PM_ST_CHARGING 0x0100
#define PM_ST_DISCHARGING 0x0200
#define PM_ST_CHG_MOS 0x0400
#define PM_ST_DSG_MOS 0x0800

static void pm_cells(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = 0;
	for (unsigned i = 0; i < PM_CELLS; i++) {
		s->cell_mv[i] = bms_mb_reg(d, 0, (uint16_t)(PM_R_CELL1 + i));
		if (s->cell_mv[i])
			n = i + 1;
	}
	s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < n ? poll->cells_forced : n);
	for (unsigned i = s->ncells; i < PM_CELLS; i++)
		s->cell_mv[i] = 0;
	s->ntemps = 0;
	for (unsigned i = 0; i < PM_CELL_TEMPS; i++)
		s->temp_c[s->ntemps++] = (float)bms_mb_sreg(d, 0, (uint16_t)(PM_R_TEMP1 + i)) / 10.0f;
	int env = bms_mb_sreg(d, 0, PM_R_ENV_TEMP), mos = bms_mb_sreg(d, 0, PM_R_MOS_TEMP);
	if (env >= PM_TEMP_MIN && env <= PM_TEMP_MAX)
		s->temp_c[s->ntemps++] = (float)env / 10.0f;
	if (mos >= PM_TEMP_MIN && mos <= PM_TEMP_MAX) {
		s->mos_temp_c = (float)mos / 10.0f;
		s->present |= BMS_HAS_MOS_TEMP;
	}
	s->balance = bms_mb_reg(d, 0, PM_R_BALANCE);
	s->present |= BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_BALANCE;
}

static int pm_live(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	uint16_t soc = bms_mb_reg(d, 0, PM_R_SOC), soh = bms_mb_reg(d, 0, PM_R_SOH);
	s->current = (float)bms_mb_sreg(d, 0, PM_R_CURRENT) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = (float)bms_mb_reg(d, 0, PM_R_VOLT) / 100.0f;
	s->soc = soc > 100 ? 100.0f : (float)soc;
	s->soh = soh > 100 ? 100.0f : (float)soh;
	s->remain_ah = (float)bms_mb_reg(d, 0, PM_R_REMAIN) / 100.0f;
	s->full_ah = (float)bms_mb_reg(d, 0, PM_R_FULL) / 100.0f;
	s->cycles = bms_mb_reg(d, 0, PM_R_CYCLES);
	pm_cells(poll, d);
	uint16_t w[3] = { bms_mb_reg(d, 0, PM_R_WARNING), bms_mb_reg(d, 0, PM_R_PROTECTION),
			  bms_mb_reg(d, 0, PM_R_STATUS) };
	s->alarms = bms_alarm_map(w, 3, pm_rules, sizeof(pm_rules) / sizeof(pm_rules[0]));
	s->nraw = 3;
	memcpy(s->raw_alarms, w, sizeof(w));
	s->chg_mos = (w[2] & PM_ST_CHG_MOS) != 0;
	s->dsg_mos = (w[2] & PM_ST_DSG_MOS) != 0;
	s->state = (w[2] & PM_ST_CHARGING) ? 1 : (w[2] & PM_ST_DISCHARGING) ? 2 : 0;
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_FULL |
		      BMS_HAS_CYCLES | BMS_HAS_ALARMS | BMS_HAS_MOSFETS;
	return BMS_OK;
}

static int pm_ident(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_mb_text(d, PM_R_VERSION, PM_R_VERSION, 10, id->firmware, sizeof(id->firmware));
	bms_mb_text(d, PM_R_VERSION, PM_R_MODEL_SN, 10, id->serial, sizeof(id->serial));
	bms_mb_text(d, PM_R_VERSION, PM_R_PACK_SN, 10, id->pack_serial, sizeof(id->pack_serial));
	return BMS_OK;
}

/* ---- the parameters 60 .. 114 (§25.5): read only ---- */

enum { PM_K_MV, PM_K_DS, PM_K_AMP, PM_K_TEMP, PM_K_SC };
static const struct {
	uint8_t reg, key, kind;
} pm_set[] = {
	{ 61, BMS_SET_PACK_OVP_V, PM_K_MV },          { 65, BMS_SET_CELL_OVP_V, PM_K_MV },
	{ 66, BMS_SET_CELL_OVP_RELEASE_V, PM_K_MV },  { 67, BMS_SET_CELL_OVP_DELAY_S, PM_K_DS },
	{ 69, BMS_SET_PACK_UVP_V, PM_K_MV },          { 73, BMS_SET_CELL_UVP_V, PM_K_MV },
	{ 74, BMS_SET_CELL_UVP_RELEASE_V, PM_K_MV },  { 75, BMS_SET_CELL_UVP_DELAY_S, PM_K_DS },
	{ 77, BMS_SET_CHARGE_OCP_A, PM_K_AMP },       { 78, BMS_SET_CHARGE_OCP_DELAY_S, PM_K_DS },
	{ 80, BMS_SET_DISCHARGE_OCP_A, PM_K_AMP },    { 81, BMS_SET_DISCHARGE_OCP_DELAY_S, PM_K_DS },
	{ 85, BMS_SET_CHARGE_OTP_C, PM_K_TEMP },      { 86, BMS_SET_CHARGE_OTP_RELEASE_C, PM_K_TEMP },
	{ 88, BMS_SET_DISCHARGE_OTP_C, PM_K_TEMP },   { 89, BMS_SET_DISCHARGE_OTP_RELEASE_C, PM_K_TEMP },
	{ 91, BMS_SET_CHARGE_UTP_C, PM_K_TEMP },      { 92, BMS_SET_CHARGE_UTP_RELEASE_C, PM_K_TEMP },
	{ 94, BMS_SET_DISCHARGE_UTP_C, PM_K_TEMP },   { 95, BMS_SET_DISCHARGE_UTP_RELEASE_C, PM_K_TEMP },
	{ 97, BMS_SET_MOS_OTP_C, PM_K_TEMP },         { 98, BMS_SET_MOS_OTP_RELEASE_C, PM_K_TEMP },
	{ 105, BMS_SET_BALANCE_START_V, PM_K_MV },    { 106, BMS_SET_BALANCE_DELTA_V, PM_K_MV },
	{ 109, BMS_SET_SMART_SLEEP_V, PM_K_MV },      { 111, BMS_SET_SHORT_CIRCUIT_DELAY_S, PM_K_SC },
};
#define PM_SETTINGS \
	(BMS_SET_CELL_PROTECT | BMS_SET_TEMP_PROTECT | BMS_SET_OCP_PROTECT | BMS_SET_BIT(BMS_SET_PACK_OVP_V) | \
	 BMS_SET_BIT(BMS_SET_PACK_UVP_V) | BMS_SET_BIT(BMS_SET_MOS_OTP_C) | \
	 BMS_SET_BIT(BMS_SET_MOS_OTP_RELEASE_C) | BMS_SET_BIT(BMS_SET_BALANCE_START_V) | \
	 BMS_SET_BIT(BMS_SET_BALANCE_DELTA_V) | BMS_SET_BIT(BMS_SET_SMART_SLEEP_V) | \
	 BMS_SET_BIT(BMS_SET_SHORT_CIRCUIT_DELAY_S))

/* mV (a pack's up to 65.535 V), 0.1 s delays (1 .. 255), whole amperes,
 * s16 0.1 degC (-50 .. 150; the MOSFET's "or invalid" on a BMS-4820),
 * short-circuit delay in 25 us (1 .. 20: at most 500 us) */
static int pm_settings(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_settings st;
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < sizeof(pm_set) / sizeof(pm_set[0]); i++) {
		enum bms_set_key k = (enum bms_set_key)pm_set[i].key;
		uint16_t u = bms_mb_reg(d, PM_R_SET, pm_set[i].reg);
		switch (pm_set[i].kind) {
		case PM_K_MV: bms_settings_put_raw(&st, k, u, 1, 65535, 1000.0); break;
		case PM_K_DS: bms_settings_put_raw(&st, k, u, 1, 255, 10.0); break;
		case PM_K_AMP: bms_settings_put_raw(&st, k, u, 1, 65535, 1.0); break;
		case PM_K_TEMP:
			bms_settings_put_raw(&st, k, bms_mb_sreg(d, PM_R_SET, pm_set[i].reg), PM_TEMP_MIN, PM_TEMP_MAX,
					     10.0);
			break;
		default: bms_settings_put_raw(&st, k, u, 1, 20, 40000.0); break;
		}
	}
	if (!st.have)
		return BMS_E_RANGE; /* nothing in range: dropped */
	poll->kept.settings = st; /* shown read only */
	return BMS_OK;
}

static int pm_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n; /* the master checked the byte count of the block */
	switch (block) {
	case PM_B_LIVE: return pm_live(poll, d);
	case PM_B_SETTINGS: return pm_settings(poll, d);
	default: return pm_ident(poll, d);
	}
}

static const struct bms_mb_proto pm_proto = {
	.blocks = pm_blocks,
	.nblocks = sizeof(pm_blocks) / sizeof(pm_blocks[0]),
	.min_address = BMS_MB_ADDR_MIN,
	.max_address = BMS_MB_ADDR_MAX,
	.decode = pm_decode,
};

BMS_MB_DRIVER_FUNCS(pm, pm_proto)

/* Identification (§27): the live read, FC03 0 x 37 (current, voltage,
 * cells: the voltage must be the cells' sum). */
static const struct bms_probe pm_probe = {
	.bauds = { 9600 },
	.rank = 14,
	.gap = 0.05,
	.timeout = 0.2,
};

const struct bms_driver bms_pace_modbus_driver = {
	.name = "pace-modbus",
	.description = "PACE BMS with its RS485 port set to Modbus RTU V1.3 (FC03 0 x 37, identity 150)",
	.vendor = "PACE",
	.protocol_id = 19,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_REMAIN | BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS |
		BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	/* 60 x 55, when the settings are due (§25.5) */
	.settings = PM_SETTINGS,
	.default_baud = 9600,
	BMS_MB_LINK(BMS_MB_ADDR_MIN, BMS_MB_ADDR_MAX),
	.next_request = pm_next_request,
	.listen = &pm_listen,
	.scan = pm_scan,
	.handle = pm_handle,
	.timeout = pm_timeout,
	.finish = bms_finish_pack,
	.probe = &pm_probe,
	.mb = &pm_proto,
};
