/* SPDX-License-Identifier: MIT */
/* bms/pwrxtreme.c - the PowerXtreme smart BMS over Bluetooth LE: Topband's
 * "v1" frames on service FFF0.
 *
 * See bms/PROTOCOLS.md §80.  Bluetooth LE only: the BMS notifies on FFF1 by
 * itself and is never written to (FFF2 is not used: there is no request).
 * A frame is Topband's (bms/topband.c, §34): the start byte 0x5E and 112
 * hex digits of a 56-byte block whose bytes 54..55 are the big-endian sum
 * of its bytes 0..53, little-endian: 0 voltage mV, 4 current mA (s32, + =
 * charging), 8 remaining mAh, 12 cycles, 14 SOC %, 16 temperature 0.1 K,
 * 18 the status byte, 22 u16[16] cells mV.  So the poll, the framer and the
 * decoder are topband's (its table's, as daly-can takes daly's): only the
 * GATT layout and the advertisement differ (aiobmsble's pwrxtreme_bms
 * derives from its topband_bms the same way).
 */
#include "bms.h"

#include "drivers.h"

/* The frames' protocol (bms/topband.c). */
static const struct bms_driver *const px_tb = &bms_topband_driver;

static enum bms_scan px_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	return px_tb->scan(poll, buf, len, n);
}

static int px_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	return px_tb->handle(poll, frame, len);
}

static int px_finish(struct bms_poll *poll)
{
	return px_tb->finish(poll);
}

/* FFF0 / FFF1 notify (aiobmsble pwrxtreme_bms); no characteristic is written. */
static const struct bms_gatt px_gatt[] = {
	{ .service = BMS_UUID16("fff0"), .notify = BMS_UUID16("fff1") },
	BMS_GATT_END,
};

/* --ble-scan: aiobmsble's matcher, the company 76 (0x004C) with the
 * service FFF0 (the company is Apple's, which many devices advertise: the
 * pair is what names it, before Daly's FFF0 alone). */
static const struct bms_ble_hint px_ble_hints[] = {
	{3, BMS_BLE_COMPANY_SERVICE, NULL, NULL, 0xFFF0004Cu, false, "company 0x004C with service FFF0 (PowerXtreme)"},
	{0},
};

static const struct bms_ble px_ble = {
	.only = true,
	.gatt = px_gatt,
	.hints = px_ble_hints,
};

const struct bms_driver bms_pwrxtreme_driver = {
	.name = "pwrxtreme",
	.description = "PowerXtreme smart BMS over Bluetooth LE (Topband v1 ASCII frames on FFF1, pushed)",
	.vendor = "PowerXtreme",
	.protocol_id = 70,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_ALARMS,
	BMS_BLE_ONLY,
	.interbyte = 0.3,
	/* a frame about once a second: one may be missed */
	.default_timeout = 3.0,
	.listen_only = true,
	.scan = px_scan,
	.handle = px_handle,
	.finish = px_finish,
	.ble = &px_ble,
};
