/* SPDX-License-Identifier: MIT */
/* bms/lipower.c - Ective "LiPower" batteries over Bluetooth LE: one Modbus
 * RTU read (the frames of bms/base/mbmaster.c) over FFE1 of service FFE0.
 *
 * bms/PROTOCOLS.md §64.  A poll is one read, FC03 0x0400 x 8, to the
 * device id the pack answers at: 0x22, else 0x0B, else 0x08, tried in
 * turn, one a try (a try that timed out moves to the next id: a poll's
 * retries ask the next ones), until one answers (then kept, persist):
 *	request	<id> 03 04 00 00 08 <crc:2>
 *	answer	<id> 03 <n> <registers> <crc:2>	n = 16, or 18 (a ninth
 *		register, 0x0408, the "protocol version" of one sample)
 * Registers (big-endian): 0x0400 remaining Ah, 0x0401 SOC %, 0x0402 /
 * 0x0403 the run time left (hours, minutes: not served), 0x0404 the
 * direction (1 discharging, 0 charging), 0x0405 current 0.01 A (magnitude),
 * 0x0406 voltage 0.1 V, 0x0407 power W (not served: whole watts).
 * No cells, temperatures, MOSFETs or alarms are sent.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "mbmaster.h"

#define LP_START 0x0400
#define LP_COUNT 8
#define LP_MIN_DATA (2 * LP_COUNT) /* 16 data bytes */
#define LP_MAX_DATA 32             /* a longer answer is no LiPower's */

/* The device ids, tried in this order (aiobmsble's lipower_bms). */
static const uint8_t lp_ids[] = { 0x22, 0x0B, 0x08 };
#define LP_NIDS (sizeof(lp_ids) / sizeof(lp_ids[0]))

/* poll->persist: bits 0-1 the index of the id to ask, bit 2 its answer
 * seen (the id is then kept). */
#define LP_KNOWN 0x4u

static uint8_t lp_id(const struct bms_poll *poll)
{
	unsigned i = poll->persist & 3u;
	return lp_ids[i < LP_NIDS ? i : 0];
}

static int lp_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	if (poll->step == 1)
		return 0;
	if (poll->step != 0)
		return BMS_E_RANGE;
	return bms_mb_request(out, cap, lp_id(poll), BMS_MB_FC_HOLDING, LP_START, LP_COUNT);
}

/* An answer of any of the ids (the one asked is handle()'s to check). */
static enum bms_scan lp_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len == 0)
		return BMS_SCAN_NEED;
	if (!memchr(lp_ids, buf[0], LP_NIDS)) {
		*n = bms_scan_skip(buf, len, lp_ids, LP_NIDS);
		return BMS_SCAN_SKIP;
	}
	if (len < 3)
		return BMS_SCAN_NEED;
	/* a request (ours echoed): 8 bytes, its CRC good */
	if (buf[1] == BMS_MB_FC_HOLDING && buf[2] == (LP_START >> 8)) {
		if (len < BMS_MB_REQ_LEN)
			return BMS_SCAN_NEED;
		if (bms_crc16_modbus_ok(buf, BMS_MB_REQ_LEN))
			return bms_scan_tail(true, false, BMS_MB_REQ_LEN, n);
	}
	if (buf[1] != BMS_MB_FC_HOLDING || buf[2] < LP_MIN_DATA || buf[2] > LP_MAX_DATA || (buf[2] & 1)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	size_t want = 5u + buf[2];
	if (len < want)
		return BMS_SCAN_NEED;
	return bms_scan_tail(bms_crc16_modbus_ok(buf, want), true, want, n);
}

static int lp_handle(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	if (len < 5u + LP_MIN_DATA || len != 5u + f[2])
		return BMS_E_SHORT;
	if (f[0] != lp_id(poll))
		return BMS_E_UNEXPECTED; /* another id's answer: not ours */
	poll->persist |= LP_KNOWN; /* the id answered: kept, whatever its values */
	const uint8_t *d = f + 3;
	uint16_t dir = bms_mb_reg(d, LP_START, 0x0404);
	uint16_t soc = bms_mb_reg(d, LP_START, 0x0401);
	if (dir > 1 || soc > 100)
		return BMS_E_RANGE;
	float cur = bms_mb_reg(d, LP_START, 0x0405) / 100.0f;
	s->current = dir ? -cur : cur;
	if (poll->invert_current)
		s->current = -s->current;
	s->voltage = bms_mb_reg(d, LP_START, 0x0406) / 10.0f;
	s->soc = soc;
	s->remain_ah = bms_mb_reg(d, LP_START, 0x0400);
	s->present |= BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN;
	poll->step = 1;
	return BMS_OK;
}

/* No answer (or a bad one): the next try asks the next id, until one has
 * answered. */
static bool lp_timeout(struct bms_poll *poll)
{
	if (!(poll->persist & LP_KNOWN))
		poll->persist = ((poll->persist & 3u) + 1u) % LP_NIDS;
	return false;
}

static int lp_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (poll->step < 1)
		return BMS_E_INVALID;
	return (s->present & BMS_HAS_VOLTAGE) && s->voltage > 0.0f ? BMS_OK : BMS_E_INVALID;
}

/* FFE0: notify and write on the one FFE1 (aiobmsble's lipower_bms). */
static const struct bms_gatt lp_gatt[] = {
	BMS_GATT16("ffe0", "ffe1", "ffe1"),
	BMS_GATT_END,
};

/* --ble-scan: the advertised service AF30 (aiobmsble's matcher; its names
 * are dates, "23-01-05-034"). */
static const struct bms_ble_hint lp_ble_hints[] = {
	{3, BMS_BLE_SERVICE, NULL, NULL, 0xAF30, false, "service AF30 (Ective LiPower)"},
	{0},
};

static const struct bms_ble lp_ble = {
	.only = true,
	.gatt = lp_gatt,
	.hints = lp_ble_hints,
};

const struct bms_driver bms_lipower_driver = {
	.name = "lipower",
	.description = "Ective LiPower batteries over Bluetooth LE (Modbus FC03 0x0400 x 8, id 0x22 / 0x0B / 0x08)",
	.vendor = "Ective",
	.protocol_id = 55,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN,
	BMS_BLE_LINK,
	.next_request = lp_next_request,
	.scan = lp_scan,
	.handle = lp_handle,
	.timeout = lp_timeout,
	.finish = lp_finish,
	.ble = &lp_ble,
};
