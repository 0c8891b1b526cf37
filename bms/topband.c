/* SPDX-License-Identifier: MIT */
/* bms/topband.c - the Topband BMS over Bluetooth LE, its "v1" ASCII frames:
 * Topband's own packs, KiloVault HLX+, Ective and Startcraft batteries.
 *
 * See bms/PROTOCOLS.md §34.  Bluetooth LE only: service FFE0, the BMS
 * notifies on FFE4 by itself, about once a second, and is never written to
 * (there is no request: nothing is sent at all).  A frame is 113 bytes:
 *	<SOF> <112 ASCII hex digits>
 * the start byte 0x5E (Ective), 0x83 (Startcraft), 0xB0 (KiloVault) or 0xE8
 * (aiobmsble's later list), none of them a hex digit; the digits are the
 * 56 bytes of the block, whose bytes 54..55 are the big-endian 16-bit sum
 * of its bytes 0..53.  Junk before and after a frame (in the same
 * notification) is skipped.  The block, little-endian:
 *	0 u32 mV voltage;  4 s32 mA current (+ = charging);  8 u32 mAh
 *	remaining;  12 u16 cycles;  14 u16 SOC %;  16 u16 0.1 K temperature;
 *	18 u8 status (0 = no problem);  22 u16[16] cells mV (0 = none)
 * Not transmitted: the full capacity, SOH, MOSFET states, balancing, the
 * meaning of the status bits (served as raw_alarms[0] and, when not 0, the
 * OTHER alarm; bytes 19..21 are not served: §34.3).
 * A poll takes the next whole frame after it starts (listen_only).
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"

#define TB_HEX 112              /* the digits of a frame */
#define TB_LEN (1 + TB_HEX)     /* start byte + digits */
#define TB_BLOCK (TB_HEX / 2)   /* 56 bytes */
#define TB_SUMMED 54            /* bytes 0..53 summed into 54..55 */
#define TB_CELLS 16
#define TB_MAX_MV 100000u       /* 100 V: beyond any pack of 16 cells */
#define TB_MAX_MA 2000000       /* 2000 A */

enum { TB_WAIT, TB_DONE };

enum {
	TB_O_VOLT = 0,
	TB_O_CURRENT = 4,
	TB_O_REMAIN = 8,
	TB_O_CYCLES = 12,
	TB_O_SOC = 14,
	TB_O_TEMP = 16,
	TB_O_STATUS = 18,
	TB_O_CELLS = 22,
};

/* The start bytes of a frame. */
static const uint8_t tb_sofs[] = { 0x5E, 0x83, 0xB0, 0xE8 };

static bool tb_sof(uint8_t c)
{
	return memchr(tb_sofs, c, sizeof(tb_sofs)) != NULL;
}

/* The frame at buf[0] (a start byte, len >= TB_LEN) decoded into its 56
 * bytes: the index of the first character that is no hex digit, or 0 when
 * all are. */
static size_t tb_decode(const uint8_t *buf, uint8_t *block)
{
	for (size_t i = 0; i < TB_BLOCK; i++) {
		int hi = bms_hexval(buf[1 + 2 * i]), lo = bms_hexval(buf[2 + 2 * i]);
		if (hi < 0)
			return 1 + 2 * i;
		if (lo < 0)
			return 2 + 2 * i;
		block[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool tb_sum_ok(const uint8_t *block)
{
	return (bms_sum(block, TB_SUMMED) & 0xFFFF) == bms_be16(block + TB_SUMMED);
}

/* A start byte and 112 hex digits: a frame (its sum right) or BADSUM;
 * anything else is skipped up to the next start byte, or up to the
 * character that ended the digits (a lost notification: a new frame may
 * start there). */
static enum bms_scan tb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	uint8_t block[TB_BLOCK];
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (!tb_sof(buf[0])) {
		*n = bms_scan_skip(buf, len, tb_sofs, sizeof(tb_sofs));
		return BMS_SCAN_SKIP;
	}
	for (size_t i = 1; i < len && i < TB_LEN; i++)
		if (bms_hexval(buf[i]) < 0) {
			*n = i;
			return BMS_SCAN_SKIP;
		}
	if (len < TB_LEN)
		return BMS_SCAN_NEED;
	(void)tb_decode(buf, block);
	*n = TB_LEN;
	return tb_sum_ok(block) ? BMS_SCAN_FRAME : BMS_SCAN_BADSUM;
}

/* The block's values into s; BMS_E_RANGE for a value no battery has. */
static int tb_values(const struct bms_poll *poll, const uint8_t *b, struct bms_snapshot *s)
{
	uint32_t mv = bms_le32(b + TB_O_VOLT);
	int32_t ma = (int32_t)bms_le32(b + TB_O_CURRENT);
	uint16_t soc = bms_le16(b + TB_O_SOC), dk = bms_le16(b + TB_O_TEMP);
	unsigned n = 0;

	if (mv > TB_MAX_MV || ma > TB_MAX_MA || ma < -TB_MAX_MA || soc > 100)
		return BMS_E_RANGE;
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < TB_CELLS; i++) {
		s->cell_mv[i] = bms_le16(b + TB_O_CELLS + 2 * i);
		if (s->cell_mv[i])
			n = i + 1;
	}
	if (poll->cells_forced)
		n = poll->cells_forced < TB_CELLS ? poll->cells_forced : TB_CELLS;
	for (unsigned i = n; i < TB_CELLS; i++)
		s->cell_mv[i] = 0;
	s->ncells = (uint8_t)n;
	s->voltage = (float)mv / 1000.0f;
	s->current = (float)ma / 1000.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->remain_ah = (float)bms_le32(b + TB_O_REMAIN) / 1000.0f;
	s->cycles = bms_le16(b + TB_O_CYCLES);
	s->soc = soc;
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_CYCLES |
		     BMS_HAS_CELLS | BMS_HAS_ALARMS;
	/* 0.1 K; a value outside -50..150 degC (0 K) is no sensor's reading:
	 * kept as read, the gateway serves it absent and flags a sensor fault
	 * (bms_sensor_faults) */
	s->temp_c[0] = (float)dk / 10.0f - 273.15f;
	s->ntemps = 1;
	s->present |= BMS_HAS_TEMPS;
	s->raw_alarms[0] = b[TB_O_STATUS];
	s->nraw = 1;
	s->alarms = b[TB_O_STATUS] ? BMS_AL_OTHER : 0;
	s->state = s->current > 0 ? 1 : s->current < 0 ? 2 : 0;
	return BMS_OK;
}

static int tb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t block[TB_BLOCK];
	struct bms_snapshot s;

	if (len != TB_LEN || !tb_sof(frame[0]))
		return len < TB_LEN ? BMS_E_SHORT : BMS_E_HEADER;
	if (tb_decode(frame, block) != 0 || !tb_sum_ok(block))
		return BMS_E_CHECKSUM;
	if (poll->step != TB_WAIT)
		return BMS_E_UNEXPECTED; /* the poll has its frame */
	int rc = tb_values(poll, block, &s);
	if (rc != BMS_OK)
		return rc;
	poll->snap = s;
	poll->step = TB_DONE;
	return BMS_OK;
}

static int tb_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, TB_DONE);
}

/* FFE0 / FFE4 notify (aiobmsble topband_bms, syssi's topband_bms_v1_ble);
 * no characteristic is written. */
static const struct bms_gatt tb_gatt[] = {
	{ .service = BMS_UUID16("ffe0"), .notify = BMS_UUID16("ffe4") },
	BMS_GATT_END,
};

/* --ble-scan: aiobmsble's matcher is the service FFE0 with the company id
 * 0x0000 or 0xFFFF (the names are serials: NWJ2022..., ZM2021...,
 * SmartBattery-...); FFE0 alone is JK's, LiTime's and NEEY's too, so the
 * pair is what names it (rank 3: after the names, before JK's FFE0). */
static const struct bms_ble_hint tb_ble_hints[] = {
	{3, BMS_BLE_COMPANY_SERVICE, NULL, NULL, 0xFFE00000u, false, "company 0x0000 with service FFE0 (Topband)"},
	{3, BMS_BLE_COMPANY_SERVICE, NULL, NULL, 0xFFE0FFFFu, false, "company 0xFFFF with service FFE0 (Topband)"},
	{0},
};

static const struct bms_ble tb_ble = {
	.only = true,
	.gatt = tb_gatt,
	.hints = tb_ble_hints,
};

const struct bms_driver bms_topband_driver = {
	.name = "topband",
	.description = "Topband BMS over Bluetooth LE (KiloVault HLX+, Ective, Startcraft; v1 ASCII frames, pushed)",
	.vendor = "Topband",
	.protocol_id = 27,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	/* a frame about once a second: one may be missed */
	.default_timeout = 3.0,
	.listen_only = true,
	.scan = tb_scan,
	.handle = tb_handle,
	.finish = tb_finish,
	.ble = &tb_ble,
};
