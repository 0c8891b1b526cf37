/* SPDX-License-Identifier: MIT */
/* bms/chins_nus.c - Chins batteries advertised "G-<V>V<Ah>Ah-<serial>":
 * E&J's single-frame variant over the Nordic UART service, read by RT alone.
 *
 * See bms/PROTOCOLS.md §83.  Bluetooth LE only: written to 6e400002-...,
 * notified on 6e400003-... (aiobmsble's nordicnus_bms).  A poll writes
 *	RT	:000250000E03~
 * and takes the 140-character answer (69 bytes hex-decoded; a 128-character
 * one, without the capacities, is taken too): the family's frame and RT
 * record (bms/ejframe.h, bms/base/ejframe.c: cells and their sum as the
 * voltage, charge - discharge current, temperature 1, the working state,
 * balancing, cycles, SOC, remaining and full capacity) and byte 54, the
 * heater (not 0: on; its current is not transmitted).  Nothing else is
 * sent: no CAP read (chins's second request), the 140-character answer
 * carries the capacities.  The module streams the answer again for a while
 * after each RT (aiobmsble re-sends RT every 10 s): a frame that comes
 * while the poll waits is its answer, whoever asked.
 *
 * Progress: step (enum below); no private state.
 */
#include "bms.h"

#include <math.h>
#include <string.h>

#include "drivers.h"
#include "ejframe.h"

#define CN_RT_LEN 128
#define CN_RT_SF_LEN 140 /* the single-frame answer */

enum { CN_RT, CN_DONE };

static int cn_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const char rt[] = ":000250000E03~";
	if (poll->step == CN_DONE)
		return 0;
	if (poll->step != CN_RT)
		return BMS_E_RANGE;
	return bms_request_copy(out, cap, rt, sizeof(rt) - 1);
}

static enum bms_scan cn_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_ej_scan(buf, len, 0, n);
}

static int cn_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t m[BMS_EJ_MAX_MSG];
	size_t nm = 0;
	int rc = bms_ej_decode(frame, len, 0, m, &nm);
	if (rc != BMS_OK)
		return rc;
	unsigned total = 2 * (unsigned)nm + 2;
	if ((m[1] & 0x7F) != BMS_EJ_CMD_RT || poll->step != CN_RT)
		return BMS_E_UNEXPECTED; /* another command's answer, or the poll has its own */
	if (total != CN_RT_LEN && total != CN_RT_SF_LEN)
		return BMS_E_SHORT;
	rc = bms_ej_rt(poll, m, total == CN_RT_SF_LEN);
	if (rc != BMS_OK)
		return rc;
	poll->snap.heater_on = m[BMS_EJ_O_HEATER] != 0;
	poll->snap.heater_a = NAN;
	poll->snap.present |= BMS_HAS_HEATER;
	poll->step = CN_DONE;
	return BMS_OK;
}

static int cn_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, CN_DONE);
}

static const struct bms_gatt cn_gatt[] = {
	BMS_GATT_NUS,
	BMS_GATT_END,
};

/* --ble-scan: aiobmsble's nordicnus matcher, "G-*" with the Nordic UART
 * service; the whole pattern of its Chins names (bms_ej_chins_name()),
 * before E&J's other names (rank 1). */
static const struct bms_ble_hint cn_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, bms_ej_chins_name, 0, false, "name G-<V>V<Ah>Ah-<serial> (Chins, E&J single frame)"},
	{0},
};

static const struct bms_ble cn_ble = {
	.only = true,
	.gatt = cn_gatt,
	.hints = cn_ble_hints,
};

const struct bms_driver bms_chins_nus_driver = {
	.name = "chins-nus",
	.description = "Chins G- batteries over Bluetooth LE (E&J single frame :...~ over the Nordic UART service, RT alone)",
	.vendor = "Chins",
	.protocol_id = 73,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_HEATER,
	BMS_BLE_LINK,
	.next_request = cn_next_request,
	.scan = cn_scan,
	.handle = cn_handle,
	.finish = cn_finish,
	.ble = &cn_ble,
};
