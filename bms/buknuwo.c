/* SPDX-License-Identifier: MIT */
/* bms/buknuwo.c - Buknuwo smart batteries (advertised CDZG...): Modbus RTU
 * FC03 over Bluetooth LE, a register table on the master of bms/base/mbmaster.c.
 *
 * bms/PROTOCOLS.md §65.  Written to ...0e8ac72e0001, notified on
 * ...0e8ac72e0002 of service 00002760-08c2-11e1-9073-0e8ac72e1001 (Gobel's
 * service; the name tells them apart); requests to slave 0x01.  A poll
 * reads (registers hex):
 *	FC03 0x0000 x 0x0D	current (s16 0.01 A, + charging), voltage
 *				(0.01 V), SOC, SOH, remaining Ah (0.01), the
 *				design capacity (0.01 Ah), cycles, the error
 *				words 9 and 10, the MOSFETs (0x0B)
 *	FC03 0x0039 x 1		the MOSFET temperature (s16 0.1 degC)
 *	FC03 0x002E x 0x0B	the sensor count (<= 10), the sensors
 * No cells are sent.  raw_alarms[]: registers 9, 10, 11.
 */
#include "bms.h"

#include "drivers.h"
#include "mbmaster.h"

#define BK_SENSORS 10
#define BK_CHG_MOS 0x0400u /* register 0x0B */
#define BK_DSG_MOS 0x0800u

enum { BK_B_MAIN, BK_B_MOS, BK_B_TEMPS };

static const struct bms_mb_block bk_blocks[] = {
	[BK_B_MAIN] = { BMS_MB_FC_HOLDING, 0x0000, 0x0D, BMS_MB_LIVE },
	[BK_B_MOS] = { BMS_MB_FC_HOLDING, 0x0039, 0x01, BMS_MB_LIVE },
	[BK_B_TEMPS] = { BMS_MB_FC_HOLDING, 0x002E, 0x0B, BMS_MB_LIVE },
};

/* Registers 0..0x0C. */
static int bk_main(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	int rc = bms_mb_head(poll, d, 6); /* full: the design capacity */
	if (rc != BMS_OK)
		return rc;
	/* the problem bits as aiobmsble masks them (their meanings are not
	 * published): 9 & 0xFF3F, 10 & 0xFF7F, 11 & 0x007F */
	static const uint16_t mask[3] = { 0xFF3F, 0xFF7F, 0x007F };
	bms_mb_problems(s, d, 9, mask);
	uint16_t mos = bms_mb_reg(d, 0, 0x0B);
	s->chg_mos = (mos & BK_CHG_MOS) != 0;
	s->dsg_mos = (mos & BK_DSG_MOS) != 0;
	s->present |= BMS_HAS_MOSFETS;
	return BMS_OK;
}

/* 0x002E: the sensor count, then the sensors (s16 0.1 degC). */
static int bk_temps(struct bms_poll *poll, const uint8_t *d)
{
	struct bms_snapshot *s = &poll->snap;
	unsigned nt = bms_mb_reg(d, 0x2E, 0x2E);
	if (nt > BK_SENSORS)
		return BMS_E_RANGE;
	s->ntemps = (uint8_t)(nt < BMS_MAX_TEMPS ? nt : BMS_MAX_TEMPS);
	for (unsigned i = 0; i < s->ntemps; i++)
		s->temp_c[i] = (float)bms_mb_sreg(d, 0x2E, (uint16_t)(0x2F + i)) / 10.0f;
	if (s->ntemps)
		s->present |= BMS_HAS_TEMPS;
	return BMS_OK;
}

static int bk_decode(struct bms_poll *poll, int block, const uint8_t *d, size_t n)
{
	(void)n;
	switch (block) {
	case BK_B_MAIN: return bk_main(poll, d);
	case BK_B_MOS:
		poll->snap.mos_temp_c = (float)bms_mb_sreg(d, 0x39, 0x39) / 10.0f;
		poll->snap.present |= BMS_HAS_MOS_TEMP;
		return BMS_OK;
	default: return bk_temps(poll, d);
	}
}

static const struct bms_mb_proto bk_proto = {
	.blocks = bk_blocks,
	.nblocks = sizeof(bk_blocks) / sizeof(bk_blocks[0]),
	.ble = true,
	.device = 0x01,
	.decode = bk_decode,
};

BMS_MB_IO_FUNCS(bk, bk_proto)

/* Every read done, a voltage above 0 (no cells are sent). */
static int bk_finish(struct bms_poll *poll)
{
	return bms_mb_finish_voltage(&bk_proto, poll);
}

#define BK_UUID(x) "00002760-08c2-11e1-9073-0e8ac72e" x

static const struct bms_gatt bk_gatt[] = {
	{ .service = BK_UUID("1001"), .notify = BK_UUID("0002"), .write = BK_UUID("0001") },
	BMS_GATT_END,
};

/* aiobmsble's matcher: CDZG* (CDZG202512050020000242). */
static const struct bms_ble_hint bk_ble_hints[] = {
	{2, BMS_BLE_NAME, "CDZG", NULL, 0, false, "name CDZG* (Buknuwo)"},
	{0},
};

static const struct bms_ble bk_ble = {
	.only = true,
	.gatt = bk_gatt,
	.hints = bk_ble_hints,
};

const struct bms_driver bms_buknuwo_driver = {
	.name = "buknuwo",
	.description = "Buknuwo batteries over Bluetooth LE (CDZG..., Modbus FC03 0x0000 x 13, 0x0039, 0x002E x 11)",
	.vendor = "Buknuwo",
	.protocol_id = 56,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_SOH | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_TEMPS | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_ALARMS,
	BMS_MB_BLE_LINK,
	.next_request = bk_next_request,
	.scan = bk_scan,
	.handle = bk_handle,
	.timeout = bk_timeout,
	.finish = bk_finish,
	.ble = &bk_ble,
	.mb = &bk_proto,
};
