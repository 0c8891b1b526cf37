/* SPDX-License-Identifier: MIT */
/* bms/pwrboozt.c - PowerBoozt batteries ("BT-Battery...") over Bluetooth LE.
 *
 * See bms/PROTOCOLS.md §78.  Bluetooth LE only: service FFF0, written to
 * FFF2, notified on FFF1.  A poll writes the read
 *	:015150000EFE~
 * and takes the answer, an E&J frame (bms/ejframe.h) of command 0x54 whose
 * check is the sum of its decoded bytes but the address, XOR 0xFF, and
 * whose notifications carry NUL bytes (dropped).  Decoded, big-endian
 * (bms_ej_bt_status(), bms/base/ejframe.c): 12 cells, 48 four temperatures
 * + 40 degC, 54 current (s32 mA, + = charging), 62 voltage mV, 67 cycles,
 * 69 SOC, 70 design capacity mAh.  No address.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include "drivers.h"
#include "ejframe.h"

#define PB_FLAGS (BMS_EJ_SUM_BYTES | BMS_EJ_NUL | BMS_EJ_CMD_PLAIN)

enum { PB_ASK, PB_DONE };

static int pb_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const char req[] = ":015150000EFE~";
	if (poll->step == PB_DONE)
		return 0;
	if (poll->step != PB_ASK)
		return BMS_E_RANGE;
	return bms_request_copy(out, cap, req, sizeof(req) - 1);
}

static enum bms_scan pb_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_ej_scan(buf, len, PB_FLAGS, n);
}

static int pb_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t m[BMS_EJ_MAX_MSG];
	size_t nm = 0;
	int rc = bms_ej_decode(frame, len, PB_FLAGS, m, &nm);
	if (rc != BMS_OK)
		return rc;
	if (m[1] != BMS_EJ_CMD_BT || poll->step != PB_ASK)
		return BMS_E_UNEXPECTED;
	if (nm < BMS_EJ_BT_MIN)
		return BMS_E_SHORT;
	rc = bms_ej_bt_status(poll, m, nm, (int32_t)bms_be32(m + BMS_EJ_O_BT_CURRENT));
	if (rc == BMS_OK)
		poll->step = PB_DONE;
	return rc;
}

static int pb_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, PB_DONE);
}

/* aiobmsble's pwrboozt_bms: FFF0, notify FFF1, write FFF2. */
static const struct bms_gatt pb_gatt[] = {
	BMS_GATT16("fff0", "fff1", "fff2"),
	BMS_GATT_END,
};

/* --ble-scan: aiobmsble's matcher, the name BT-Battery* with the company
 * 32516 (0x7F04) and the service FFF0 (Dörr's BT-Battery carries service
 * data FFE1 instead, §79). */
static const struct bms_ble_hint pb_ble_hints[] = {
	{3, BMS_BLE_COMPANY_SERVICE, "BT-Battery", NULL, 0xFFF07F04u, false,
	 "name BT-Battery* with company 0x7F04 and service FFF0 (PowerBoozt)"},
	{0},
};

static const struct bms_ble pb_ble = {
	.only = true,
	.gatt = pb_gatt,
	.hints = pb_ble_hints,
};

const struct bms_driver bms_pwrboozt_driver = {
	.name = "pwrboozt",
	.description = "PowerBoozt batteries over Bluetooth LE (E&J-style ':' hex frames, :015150000EFE~)",
	.vendor = "PowerBoozt",
	.protocol_id = 68,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_CYCLES |
		BMS_HAS_FULL | BMS_HAS_CELLS | BMS_HAS_TEMPS,
	BMS_BLE_LINK,
	.next_request = pb_next_request,
	.scan = pb_scan,
	.handle = pb_handle,
	.finish = pb_finish,
	.ble = &pb_ble,
};
