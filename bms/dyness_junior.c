/* SPDX-License-Identifier: MIT */
/* bms/dyness_junior.c - the Dyness Junior box's BMS (names R07...) over
 * Bluetooth LE: JBD's frames after an init write.
 *
 * See bms/PROTOCOLS.md §82.  Bluetooth LE only: service FE00, written to
 * FE01, notified on FE02.  Once a connection, after the notifications are
 * on, the BMS takes
 *	AA 55 01 00 00 56		written to FED5, answered by nothing
 * (the unlock of the link: struct bms_ble_auth, blind, after_notify); then
 * each poll is JBD's (bms/jbd.c, §7): the reads 0x03 (basic information)
 * and 0x04 (cells), DD A5 03 00 FF FD 77 and DD A5 04 00 FF FC 77, answered
 * DD reg status len data chk chk 77.  So the requests, the framer and the
 * decoder are jbd's (its table's, as daly-can takes daly's); nothing else
 * is sent: no MOSFET or settings write, no factory mode (the table has no
 * writer and no control, so a pack never asks for them).
 */
#include "bms.h"

#include "drivers.h"

/* The frames' protocol (bms/jbd.c). */
static const struct bms_driver *const dj_jbd = &bms_jbd_driver;

/* jbd's two reads (its settings read, behind its factory mode, only for a
 * pack with bms_settings, which a protocol without a writer cannot have). */
static int dj_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	return dj_jbd->next_request(poll, out, cap);
}

static enum bms_scan dj_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	return dj_jbd->scan(poll, buf, len, n);
}

static int dj_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	return dj_jbd->handle(poll, frame, len);
}

static bool dj_timeout(struct bms_poll *poll)
{
	return dj_jbd->timeout(poll);
}

static int dj_finish(struct bms_poll *poll)
{
	return dj_jbd->finish(poll);
}

/* aiobmsble's dyness_jun_bms: FE00, notify FE02, write FE01; the init to
 * FED5 (looked for in FE00: the source writes it by its UUID alone). */
static const struct bms_gatt dj_gatt[] = {
	BMS_GATT16("fe00", "fe02", "fe01"),
	BMS_GATT_END,
};

static const uint8_t dj_init[] = { 0xAA, 0x55, 0x01, 0x00, 0x00, 0x56 };
static const struct bms_ble_auth dj_auth = {
	.chr = BMS_UUID16("fed5"),
	.data = dj_init,
	.len = sizeof(dj_init),
	.blind = true,
	.after_notify = true,
};

/* --ble-scan: aiobmsble's matcher, the name R07* alone. */
static const struct bms_ble_hint dj_ble_hints[] = {
	{2, BMS_BLE_NAME, "R07", NULL, 0, false, "name R07* (Dyness Junior: JBD frames)"},
	{0},
};

static const struct bms_ble dj_ble = {
	.only = true,
	.gatt = dj_gatt,
	.auth = &dj_auth,
	.hints = dj_ble_hints,
};

const struct bms_driver bms_dyness_junior_driver = {
	.name = "dyness-junior",
	.description = "Dyness Junior box over Bluetooth LE (an init write to FED5, then JBD's 0xDD ... 0x77 reads)",
	.vendor = "Dyness",
	.protocol_id = 72,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = dj_next_request,
	.scan = dj_scan,
	.handle = dj_handle,
	.timeout = dj_timeout,
	.finish = dj_finish,
	.ble = &dj_ble,
};
