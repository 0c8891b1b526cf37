/* SPDX-License-Identifier: MIT */
/* bms/votronic.c - the Votronic battery computer (Smart Shunt) over
 * Bluetooth LE: its monitoring service's notifications, listened to.
 *
 * See bms/PROTOCOLS.md §84.  Bluetooth LE only: service
 * d0cb6aa7-8548-46d0-99f8-2d02611e5270, the battery computer's
 * characteristic 9a082a4e-5bcc-4b1d-9958-a97cfccfa5ec notifies by itself
 * once a client subscribes (the link is encrypted: the device is paired
 * first); nothing is written.  A frame is one 20-byte notification, no
 * start byte, no checksum, little-endian:
 *	0 u16 battery voltage 0.01 V;  2 u16 the second (starter) battery's
 *	voltage 0.01 V (not served);  4 u16 remaining Ah;  8 SOC %;
 *	10 s24 current mA (+ = charging);  13 u16 nominal capacity 0.1 Ah
 * Bytes 6..7, 9 and 15..19 are not described by any source; byte 9 is 0
 * in every one of the 3,459 notifications of syssi's captures (the SOC's
 * high byte, were it a 16-bit word).  Without a checksum the framer takes
 * 20 bytes whose SOC is a percentage and byte 9 0, whose voltage lies in
 * 1..100 V, whose current is within the plausibility table's range and
 * whose nominal capacity is not 0; anything else is skipped a byte at a
 * time (a lost piece: the next frame is found again).
 * Not transmitted: cells, temperatures, cycles, alarms, MOSFETs: it is a
 * shunt, the bank's meter where [bank] shunt names it (bmsgw.ini(5)).
 */
#include "bms.h"

#include <stdlib.h>
#include <string.h>

#include "drivers.h"

#define VO_LEN 20
#define VO_MIN_CV 100           /* 1 V */
#define VO_MAX_CV 10000         /* 100 V: beyond any 48 V system */

enum { VO_WAIT, VO_DONE };

enum {
	VO_O_VOLT = 0,
	VO_O_REMAIN = 4,
	VO_O_SOC = 8,
	VO_O_CURRENT = 10,
	VO_O_NOMINAL = 13,
};

/* The s24 little-endian current at f + 10, mA. */
static int32_t vo_ma(const uint8_t *f)
{
	uint32_t v = (uint32_t)f[VO_O_CURRENT] | (uint32_t)f[VO_O_CURRENT + 1] << 8 |
		     (uint32_t)f[VO_O_CURRENT + 2] << 16;
	return (int32_t)(v & 0x800000u ? v | 0xFF000000u : v);
}

/* Is f[0..20) a frame the battery computer can have sent? */
static bool vo_sane(const uint8_t *f)
{
	uint16_t cv = bms_le16(f + VO_O_VOLT);
	return f[VO_O_SOC] <= 100 && f[VO_O_SOC + 1] == 0 && cv >= VO_MIN_CV && cv <= VO_MAX_CV &&
	       labs((long)vo_ma(f)) <= (long)BMS_PLAUSIBLE_MAX_A * 1000L && bms_le16(f + VO_O_NOMINAL) > 0;
}

static enum bms_scan vo_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	if (len < VO_LEN)
		return BMS_SCAN_NEED;
	if (!vo_sane(buf)) {
		*n = 1;
		return BMS_SCAN_SKIP;
	}
	*n = VO_LEN;
	return BMS_SCAN_FRAME;
}

static int vo_handle(struct bms_poll *poll, const uint8_t *f, size_t len)
{
	struct bms_snapshot *s = &poll->snap;
	if (len != VO_LEN)
		return len < VO_LEN ? BMS_E_SHORT : BMS_E_HEADER;
	if (!vo_sane(f))
		return BMS_E_RANGE;
	if (poll->step != VO_WAIT)
		return BMS_E_UNEXPECTED; /* the poll has its frame */
	memset(s, 0, sizeof(*s));
	s->voltage = (float)bms_le16(f + VO_O_VOLT) / 100.0f;
	s->current = (float)vo_ma(f) / 1000.0f;
	if (poll->invert_current)
		s->current = -s->current;
	s->soc = f[VO_O_SOC];
	s->remain_ah = (float)bms_le16(f + VO_O_REMAIN);
	s->full_ah = (float)bms_le16(f + VO_O_NOMINAL) / 10.0f;
	s->present = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL;
	poll->step = VO_DONE;
	return BMS_OK;
}

static int vo_finish(struct bms_poll *poll)
{
	const struct bms_snapshot *s = &poll->snap;
	if (poll->step != VO_DONE || !(s->present & BMS_HAS_VOLTAGE) || !(s->voltage > 0.0f))
		return BMS_E_INVALID;
	return BMS_OK;
}

/* syssi's votronic_ble: the monitoring service and its battery computer's
 * characteristic (the solar charger's, 971ccec2-..., is not read). */
#define VO_SERVICE "d0cb6aa7-8548-46d0-99f8-2d02611e5270"
static const struct bms_gatt vo_gatt[] = {
	{ .service = VO_SERVICE, .notify = "9a082a4e-5bcc-4b1d-9958-a97cfccfa5ec" },
	BMS_GATT_END,
};

/* --ble-scan: no source names its advertisement; the monitoring service,
 * where it is advertised (the connection is encrypted: pairing first). */
static const struct bms_ble_hint vo_ble_hints[] = {
	{3, BMS_BLE_SERVICE128, VO_SERVICE, NULL, 0, true, "service d0cb6aa7-... (Votronic battery computer)"},
	{0},
};

static const struct bms_ble vo_ble = {
	.only = true,
	.gatt = vo_gatt,
	.hints = vo_ble_hints,
};

const struct bms_driver bms_votronic_driver = {
	.name = "votronic",
	.description = "Votronic battery computer / Smart Shunt over Bluetooth LE (20-byte notifications, listened to)",
	.vendor = "Votronic",
	.protocol_id = 74,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN | BMS_HAS_FULL,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	/* a frame about once a second: one may be missed */
	.default_timeout = 3.0,
	.listen_only = true,
	.scan = vo_scan,
	.handle = vo_handle,
	.finish = vo_finish,
	.ble = &vo_ble,
};
