/* SPDX-License-Identifier: MIT */
/* bms/doerr.c - Dörr Power batteries ("BT-Battery...") over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §79.  Bluetooth LE only: service FFF0, one
 * characteristic FFF6 written and notified.  PowerBoozt's read and answer
 * (§78; bms/ejframe.h): a poll writes
 *	:015150000EFE~
 * and takes the answer of command 0x54 (check: the sum of its decoded
 * bytes but the address, XOR 0xFF; NUL bytes dropped), decoded as
 * bms_ej_bt_status() does, but for the current at 54 (u32): bit 31 set =
 * charging, its low 16 bits the magnitude in mA, bit 31 clear =
 * discharging.  No address.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include "drivers.h"
#include "ejframe.h"

#define DR_FLAGS (BMS_EJ_SUM_BYTES | BMS_EJ_NUL | BMS_EJ_CMD_PLAIN)
#define DR_CHARGING 0x80000000u

enum { DR_ASK, DR_DONE };

static int dr_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const char req[] = ":015150000EFE~";
	if (poll->step == DR_DONE)
		return 0;
	if (poll->step != DR_ASK)
		return BMS_E_RANGE;
	return bms_request_copy(out, cap, req, sizeof(req) - 1);
}

static enum bms_scan dr_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_ej_scan(buf, len, DR_FLAGS, n);
}

/* The current word at 54: bit 31 the direction (set: charging), the low
 * 16 bits mA; bits 16..30 carry nothing known (aiobmsble masks them). */
static int32_t dr_ma(uint32_t w)
{
	int32_t ma = (int32_t)(w & 0xFFFFu);
	return (w & DR_CHARGING) ? ma : -ma;
}

static int dr_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t m[BMS_EJ_MAX_MSG];
	size_t nm = 0;
	int rc = bms_ej_decode(frame, len, DR_FLAGS, m, &nm);
	if (rc != BMS_OK)
		return rc;
	if (m[1] != BMS_EJ_CMD_BT || poll->step != DR_ASK)
		return BMS_E_UNEXPECTED;
	if (nm < BMS_EJ_BT_MIN)
		return BMS_E_SHORT;
	rc = bms_ej_bt_status(poll, m, nm, dr_ma(bms_be32(m + BMS_EJ_O_BT_CURRENT)));
	if (rc == BMS_OK)
		poll->step = DR_DONE;
	return rc;
}

static int dr_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, DR_DONE);
}

/* aiobmsble's doerrpwr_bms: service FFF0, FFF6 notifies and is written. */
static const struct bms_gatt dr_gatt[] = {
	BMS_GATT16("fff0", "fff6", "fff6"),
	BMS_GATT_END,
};

/* --ble-scan: aiobmsble's matcher, the name BT-Battery* with service data
 * under FFE1 (PowerBoozt's BT-Battery carries company 0x7F04, §78). */
static const struct bms_ble_hint dr_ble_hints[] = {
	{3, BMS_BLE_SERVICE_DATA, "BT-Battery", NULL, 0xFFE1u, false,
	 "name BT-Battery* with service data FFE1 (Doerr Power)"},
	{0},
};

static const struct bms_ble dr_ble = {
	.only = true,
	.gatt = dr_gatt,
	.hints = dr_ble_hints,
};

const struct bms_driver bms_doerr_driver = {
	.name = "doerr",
	.description = "Doerr Power batteries over Bluetooth LE (PowerBoozt's ':' hex frames on FFF6)",
	.vendor = "Doerr",
	.protocol_id = 69,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CYCLES |
		BMS_HAS_FULL | BMS_HAS_CELLS | BMS_HAS_TEMPS,
	BMS_BLE_LINK,
	.next_request = dr_next_request,
	.scan = dr_scan,
	.handle = dr_handle,
	.finish = dr_finish,
	.ble = &dr_ble,
};
