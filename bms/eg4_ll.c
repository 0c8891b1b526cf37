/* SPDX-License-Identifier: MIT */
/* bms/eg4_ll.c - EG4-LL / LL-S, LifePower4 V2 and PowerPro packs on RS485:
 * "EG4-LL MODBUS Communication Protocol" V01.06, Modbus RTU.
 *
 * bms/PROTOCOLS.md §18 (the master, bms/base/mbmaster.c) and §23.  9600 8N1,
 * slave = the DIP address 1..16; packs without DIP switches answer at 0x40
 * ("auto-ID").  A poll reads, from slave `address`:
 *	FC03 0x0000 x 39	voltage 10 mV, current s16 10 mA (+ = charging),
 *				cells 1-16 mV, PCB temperature (degC), maximum
 *				charging current (A), SOH, SOC, status, warning,
 *				protection, error, cycles (u32), full capacity
 *				(u32 mAs), four cell temperatures (s8 degC),
 *				the cell count, design capacity, balancing
 *	FC03 0x0069 x 23	model (24 ASCII), firmware (6), serial (16): the
 *				identity, once
 * raw_alarms[]: [0] status, [1] warning, [2] protection, [3] error.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"
#include "mbmaster.h"

#define LL_MAX_CELLS 16
#define LL_TEMPS 4              /* of the six s8 temperature slots: 5 and 6 read 0 */
#define LL_MAS_PER_AH 3600000.0 /* full capacity in mAs */

enum { LL_B_LIVE, LL_B_IDENT };

static const struct bms_mb_block ll_blocks[] = {
	[LL_B_LIVE] = { BMS_MB_FC_HOLDING, 0x0000, 39, BMS_MB_LIVE },
	[LL_B_IDENT] = { BMS_MB_FC_HOLDING, 0x0069, 23, BMS_MB_IDENT },
};

enum {
	LL_R_VOLT = 0,
	LL_R_CURRENT = 1,
	LL_R_CELL1 = 2,
	LL_R_PCB_TEMP = 18,
	LL_R_MAX_CHG = 22,
	LL_R_SOH = 23,
	LL_R_SOC = 24,
	LL_R_STATUS = 25,
	LL_R_WARNING = 26,
	LL_R_PROTECTION = 27,
	LL_R_ERROR = 28,
	LL_R_CYCLES = 29,       /* u32 */
	LL_R_FULL = 31,         /* u32 mAs */
	LL_R_TEMPS = 33,        /* six s8, high byte first */
	LL_R_NCELLS = 36,
	LL_R_BALANCE = 38,      /* bit n = cell n + 1 */
};

#define L2 BMS_AL_PROTECTION
/* words: 0 warning, 1 protection, 2 error (§23.3) */
static const struct bms_alarm_rule ll_rules[] = {
	{ 0, 0, BMS_AL_PACK_OV }, { 0, 1, BMS_AL_CELL_OV }, { 0, 2, BMS_AL_PACK_UV }, { 0, 3, BMS_AL_CELL_UV },
	{ 0, 4, BMS_AL_CHG_OC }, { 0, 5, BMS_AL_DSG_OC }, { 0, 6, BMS_AL_OTHER }, { 0, 7, BMS_AL_MOS_OT },
	{ 0, 8, BMS_AL_CHG_OT }, { 0, 9, BMS_AL_DSG_OT }, { 0, 10, BMS_AL_CHG_UT }, { 0, 11, BMS_AL_DSG_UT },
	{ 0, 12, BMS_AL_SOC_LOW }, { 0, 13, BMS_AL_OTHER },
	{ 1, 0, BMS_AL_PACK_OV | L2 }, { 1, 1, BMS_AL_CELL_OV | L2 }, { 1, 2, BMS_AL_PACK_UV | L2 },
	{ 1, 3, BMS_AL_CELL_UV | L2 }, { 1, 4, BMS_AL_CHG_OC | L2 }, { 1, 5, BMS_AL_DSG_OC | L2 },
	{ 1, 6, BMS_AL_OTHER | L2 }, { 1, 7, BMS_AL_MOS_OT | L2 }, { 1, 8, BMS_AL_CHG_OT | L2 },
	{ 1, 9, BMS_AL_DSG_OT | L2 }, { 1, 10, BMS_AL_CHG_UT | L2 }, { 1, 11, BMS_AL_DSG_UT | L2 },
	{ 1, 12, BMS_AL_SOC_LOW | L2 }, { 1, 13, BMS_AL_SHORT | L2 },
	{ 2, 0, BMS_AL_HW_FAULT }, { 2, 1, BMS_AL_SENSOR }, { 2, 2, BMS_AL_HW_FAULT }, { 2, 4, BMS_AL_CELL_DIFF },
};
#undef L2
#define LL_ST_CHARGING 0x0001
#define LL_ST_DISCHARGING 0x0002

static int ll_live(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = bms_mb_reg(d, 0, LL_R_NCELLS);
	if (n > LL_MAX_CELLS)
		return BMS_E_RANGE;
	s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < n ? poll->cells_forced : n);
	for (unsigned i = 0; i < s->ncells; i++)
		s->cell_mv[i] = bms_mb_reg(d, 0, (uint16_t)(LL_R_CELL1 + i));
	s->voltage = (float)bms_mb_reg(d, 0, LL_R_VOLT) / 100.0f;
	s->current = (float)bms_mb_sreg(d, 0, LL_R_CURRENT) / 100.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->mos_temp_c = (float)bms_mb_sreg(d, 0, LL_R_PCB_TEMP);
	for (unsigned i = 0; i < LL_TEMPS; i++) {
		uint8_t b = d[2 * LL_R_TEMPS + i];
		s->temp_c[i] = (float)(b >= 0x80 ? (int)b - 0x100 : (int)b);
	}
	s->ntemps = LL_TEMPS;
	uint16_t soc = bms_mb_reg(d, 0, LL_R_SOC), soh = bms_mb_reg(d, 0, LL_R_SOH);
	s->soc = soc > 100 ? 100.0f : (float)soc;
	s->soh = soh > 100 ? 100.0f : (float)soh;
	s->cycles = bms_mb_reg32(d, 0, LL_R_CYCLES);
	s->full_ah = (float)((double)bms_mb_reg32(d, 0, LL_R_FULL) / LL_MAS_PER_AH);
	/* the maximum charging current; the protocol gives none for discharging */
	float ccl = (float)bms_mb_reg(d, 0, LL_R_MAX_CHG);
	if (ccl <= BMS_MAX_LIMIT_A)
		bms_set_cur_limits(poll, ccl, NAN, false);
	uint16_t w[3] = { bms_mb_reg(d, 0, LL_R_WARNING), bms_mb_reg(d, 0, LL_R_PROTECTION),
			  bms_mb_reg(d, 0, LL_R_ERROR) };
	uint16_t st = bms_mb_reg(d, 0, LL_R_STATUS);
	s->alarms = bms_alarm_map(w, 3, ll_rules, sizeof(ll_rules) / sizeof(ll_rules[0]));
	s->nraw = 4;
	s->raw_alarms[0] = st;
	memcpy(s->raw_alarms + 1, w, sizeof(w));
	s->state = (st & LL_ST_CHARGING) ? 1 : (st & LL_ST_DISCHARGING) ? 2 : 0;
	s->balance = bms_mb_reg(d, 0, LL_R_BALANCE);
	s->present |= BMS_HAS_BALANCE | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		      BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_CYCLES | BMS_HAS_FULL | BMS_HAS_ALARMS;
	return BMS_OK;
}

static int ll_ident(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_mb_text(d, 0x0069, 0x0069, 12, id->model, sizeof(id->model));
	bms_mb_text(d, 0x0069, 0x0075, 3, id->firmware, sizeof(id->firmware));
	bms_mb_text(d, 0x0069, 0x0078, 8, id->serial, sizeof(id->serial));
	return BMS_OK;
}

static int ll_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n;
	return block == LL_B_LIVE ? ll_live(poll, d) : ll_ident(poll, d);
}

static const struct bms_mb_proto ll_proto = {
	.blocks = ll_blocks,
	.nblocks = sizeof(ll_blocks) / sizeof(ll_blocks[0]),
	.min_address = BMS_MB_ADDR_MIN,
	.max_address = BMS_MB_ADDR_MAX,
	.decode = ll_decode,
};

BMS_MB_DRIVER_FUNCS(ll, ll_proto)

/* Over Bluetooth LE (bms/PROTOCOLS.md §13.1, §23.1) the pack's module
 * carries the same Modbus frames: service 1000, notifications of 1002,
 * requests written to 1001 (aiobmsble's eg4_bms, which reads the same
 * block at slave 1). */
static const struct bms_gatt ll_gatt[] = {
	BMS_GATT16("1000", "1002", "1001"),
	BMS_GATT_END,
};

/* --ble-scan: service 1000 (aiobmsble's eg4_bms). */
static const struct bms_ble_hint ll_ble_hints[] = {
	{5, BMS_BLE_SERVICE, NULL, NULL, 0x1000, false, "service 1000 (EG4-LL)"},
	{0},
};

/* Identification (§27): the live read, FC03 0x0000 x 39 (cells, voltage,
 * cell count: they must agree), at the DIP address 1 and at 0x40, where
 * packs without DIP switches answer (dbus-serialbattery#473). */
static const uint8_t ll_sweep[] = { 0x40 };
static const struct bms_probe ll_probe = {
	.bauds = { 9600 },
	.addrs = { 1, 0x40 },
	.naddrs = 2,
	.sweep = ll_sweep,
	.nsweep = sizeof(ll_sweep),
	.rank = 10,
	.gap = 0.05,
	.timeout = 0.2,
};

static const struct bms_ble ll_ble = {
	.gatt = ll_gatt,
	.hints = ll_ble_hints,
};

const struct bms_driver bms_eg4_ll_driver = {
	.name = "eg4-ll",
	.description = "EG4-LL / LL-S / LifePower4 V2 RS485 Modbus RTU (FC03 0x0000 x 39, identity 0x0069)",
	.vendor = "EG4",
	.protocol_id = 17,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP |
		BMS_HAS_ALARMS | BMS_HAS_BALANCE | BMS_HAS_CUR_LIMITS,
	.default_baud = 9600,
	BMS_MB_LINK(BMS_MB_ADDR_MIN, BMS_MB_ADDR_MAX),
	.next_request = ll_next_request,
	.listen = &ll_listen,
	.scan = ll_scan,
	.handle = ll_handle,
	.timeout = ll_timeout,
	.finish = bms_finish_pack,
	.ble = &ll_ble,
	.probe = &ll_probe,
	.mb = &ll_proto,
};
