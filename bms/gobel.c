/* SPDX-License-Identifier: MIT */
/* bms/gobel.c - Gobel Power LiFePO4 batteries with their Bluetooth BMS
 * (advertised BMS-<hex>): Modbus RTU FC03 over Bluetooth LE, a register
 * table on the master of bms/base/mbmaster.c.
 *
 * bms/PROTOCOLS.md §52.  Written to ...0e8ac72e0001, notified on
 * ...0e8ac72e0002 of service 00002760-08c2-11e1-9073-0e8ac72e1001;
 * requests to slave 0x01.  A poll reads (registers hex):
 *	FC03 0x0000 x 0x3B	current (s16 0.01 A, + charging), voltage
 *				(0.01 V), SOC, SOH, remaining and full capacity
 *				(0.01 Ah), cycles, the problem words, the MOSFETs,
 *				cell count, cells (mV), sensor count, sensors and
 *				the MOSFET's (s16 0.1 degC)
 *	FC03 0x00AA x 0x23	software version, serial, model (identity)
 * raw_alarms[]: registers 8..10, the problem words.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "mbmaster.h"

#define GB_CELLS 30  /* the status block holds 30 cells (data bytes 32..91) */
#define GB_SENSORS 10 /* ... and 10 sensors (data bytes 94..113) */
#define GB_CHG_MOS 0x4000u /* register 14 */
#define GB_DSG_MOS 0x8000u
#define GB_NO_SENSOR 0xFFFFu /* the MOSFET sensor's "none" */

enum { GB_B_STATUS, GB_B_INFO };

static const struct bms_mb_block gb_blocks[] = {
	[GB_B_STATUS] = { BMS_MB_FC_HOLDING, 0x0000, 0x3B, BMS_MB_LIVE },
	[GB_B_INFO] = { BMS_MB_FC_HOLDING, 0x00AA, 0x23, BMS_MB_IDENT },
};

/* Registers 0..14: the pack's values, the problem words, the MOSFETs. */
static int gb_pack(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	int rc = bms_mb_head(poll, d, 5);
	if (rc != BMS_OK)
		return rc;
	/* 8..10: alarm, protection, fault (their bits are not published) */
	static const uint16_t any[3] = { 0xFFFF, 0xFFFF, 0xFFFF };
	bms_mb_problems(s, d, 8, any);
	uint16_t mos = bms_mb_reg(d, 0, 14);
	s->chg_mos = (mos & GB_CHG_MOS) != 0;
	s->dsg_mos = (mos & GB_DSG_MOS) != 0;
	s->present |= BMS_HAS_MOSFETS;
	return BMS_OK;
}

/* Registers 15..57: the cells, the sensors, the MOSFET's sensor. */
static int gb_cells_temps(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned n = bms_mb_reg(d, 0, 15) & 0xFFu, nt = bms_mb_reg(d, 0, 46) & 0xFFu;
	if (n > GB_CELLS || nt > GB_SENSORS)
		return BMS_E_RANGE;
	s->ncells = (uint8_t)(poll->cells_forced && poll->cells_forced < n ? poll->cells_forced : n);
	for (unsigned i = 0; i < s->ncells; i++)
		s->cell_mv[i] = bms_mb_reg(d, 0, (uint16_t)(16 + i));
	s->present |= BMS_HAS_CELLS;
	s->ntemps = (uint8_t)(nt < BMS_MAX_TEMPS ? nt : BMS_MAX_TEMPS);
	for (unsigned i = 0; i < s->ntemps; i++)
		s->temp_c[i] = (float)bms_mb_sreg(d, 0, (uint16_t)(47 + i)) / 10.0f;
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	if (bms_mb_reg(d, 0, 57) != GB_NO_SENSOR) {
		s->mos_temp_c = (float)bms_mb_sreg(d, 0, 57) / 10.0f;
		s->present |= BMS_HAS_MOS_TEMP;
	}
	return BMS_OK;
}

/* 0x00AA x 0x23: software version (data bytes 0..17), serial (20..39),
 * model (40..59). */
static void gb_info(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_ident *id = &poll->kept.ident;
	memset(id, 0, sizeof(*id));
	bms_ident_text(id->firmware, sizeof(id->firmware), d, 18);
	bms_ident_text(id->serial, sizeof(id->serial), d + 20, 20);
	bms_ident_text(id->model, sizeof(id->model), d + 40, 20);
}

static int gb_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n;
	if (block == GB_B_INFO) {
		gb_info(poll, d);
		return BMS_OK;
	}
	int rc = gb_pack(poll, d);
	return rc < 0 ? rc : gb_cells_temps(poll, d);
}

static const struct bms_mb_proto gb_proto = {
	.blocks = gb_blocks,
	.nblocks = sizeof(gb_blocks) / sizeof(gb_blocks[0]),
	.ble = true,
	.device = 0x01,
	.decode = gb_decode,
};

BMS_MB_IO_FUNCS(gb, gb_proto)

#define GB_UUID(x) "00002760-08c2-11e1-9073-0e8ac72e" x

static const struct bms_gatt gb_gatt[] = {
	{ .service = GB_UUID("1001"), .notify = GB_UUID("0002"), .write = GB_UUID("0001") },
	BMS_GATT_END,
};

/* aiobmsble's name pattern BMS-[0-9A-F]*: "BMS-" and a hex digit */
static bool gb_name_ok(const char *n)
{
	return strncmp(n, "BMS-", 4) == 0 &&
	       ((n[4] >= '0' && n[4] <= '9') || (n[4] >= 'A' && n[4] <= 'F'));
}

static const struct bms_ble_hint gb_ble_hints[] = {
	{2, BMS_BLE_NAME, NULL, gb_name_ok, 0, false, "name BMS-<hex> (Gobel Power)"},
	{0},
};

static const struct bms_ble gb_ble = {
	.only = true,
	.gatt = gb_gatt,
	.hints = gb_ble_hints,
};

const struct bms_driver bms_gobel_driver = {
	.name = "gobel",
	.description = "Gobel Power batteries over Bluetooth LE (BMS-..., Modbus FC03 0x0000 x 59)",
	.vendor = "Gobel Power",
	.protocol_id = 43,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |
		BMS_HAS_ALARMS,
	BMS_MB_BLE_LINK,
	.next_request = gb_next_request,
	.scan = gb_scan,
	.handle = gb_handle,
	.timeout = gb_timeout,
	.finish = bms_finish_pack,
	.ble = &gb_ble,
	.mb = &gb_proto,
};
