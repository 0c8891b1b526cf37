/* SPDX-License-Identifier: MIT */
/* bms/chins.c - the E&J Technology BMS over Bluetooth LE: Chins, Lithtech,
 * Supervolt, Volthium and the older LiTime serials, and the single-frame
 * variant of Chins / Metrisun.
 *
 * See bms/PROTOCOLS.md §37.  Bluetooth LE only, through the module's Nordic
 * UART service (6e400001-..., write 6e400002-..., notify 6e400003-...), or
 * AG Automotive's ("AG Power Lithium": 00008000-...-57616c6b697a, write
 * 00008001-..., notify 00008002-...).
 * Frames are ASCII: ':', then hex digits, then '~':
 *	addr (2) cmd (2; | 0x80 in an answer) version (2) length (4: the
 *	characters of the whole frame) data ... checksum (2)
 * the checksum being the sum of the characters between ':' and it, low
 * byte, XOR 0xFF.  The BLE module puts "AT\r\n" between and inside the
 * frames' notifications: skipped wherever it comes (a 'T' is never a hex
 * digit, so an 'A' followed by "T\r\n" is the module's).  A poll asks:
 *	RT	:000250000E03~  -> 128 characters (63 bytes hex-decoded), or 140
 *		(69 bytes) from the single-frame variant (Chins, Metrisun)
 *	CAP	:001031000E05~  -> 30 characters; not asked after a 140-one
 * Byte offsets of the hex-decoded answer (the header included), big-endian:
 *	RT  12 u16[16] cells mV (0 = none), 44 u16 charge / 46 u16 discharge
 *	    current (0.01 A: current = charge - discharge), 48 temperature
 *	    + 40 degC (49..51: not served, §37.3), 52 u16 working state
 *	    (bits below), 55 u16 balancing (cells 1-16), 57 u16 cycles, 61 SOC %;
 *	    the 140 one: 62 remaining and 64 full capacity (u16 0.1 Ah)
 *	CAP 7 remaining, 9 full capacity (u16 0.1 Ah)
 * The pack voltage is not transmitted: it is the sum of the cells.
 * Working state: 0 charging, 1 discharging, 2 overcharge, 3 over-discharge,
 * 4 charge over-current, 5 short circuit, 6 / 7 discharge over-current 1 /
 * 2, 8 / 9 charge over / under temperature, 10 / 11 discharge over / under
 * temperature (protections), 12 discharge MOSFET on, 13 charge MOSFET on,
 * 14 / 15 the discharge / charge switches.  raw_alarms[0]: the word.
 * The framer and the RT decoder are the family's (bms/base/ejframe.c).
 * The firmware that sends no checksum ("00": the libatt* modules) is not
 * read: its frames fail the check.
 */
#include "bms.h"

#include <string.h>

#include "drivers.h"
#include "ejframe.h"

#define CH_CMD_CAP 0x10
#define CH_RT_LEN 128
#define CH_RT_SF_LEN 140        /* the single-frame variant */
#define CH_CAP_LEN 30

enum { CH_RT, CH_CAP, CH_DONE };

enum {
	CH_O_CAP_REMAIN = 7,
	CH_O_CAP_FULL = 9,
};

static int ch_next_request(struct bms_poll *poll, uint8_t *out, size_t cap)
{
	static const char rt[] = ":000250000E03~", capq[] = ":001031000E05~";
	const char *q = poll->step == CH_RT ? rt : poll->step == CH_CAP ? capq : NULL;
	return q ? bms_request_copy(out, cap, q, strlen(q)) : 0;
}

/* The family's framer (bms/base/ejframe.c): answers are frames, our
 * requests echoed and the module's "AT\r\n" are skipped. */
static enum bms_scan ch_scan(const struct bms_poll *poll, const uint8_t *buf, size_t len, size_t *n)
{
	(void)poll;
	return bms_ej_scan(buf, len, 0, n);
}

static int ch_handle(struct bms_poll *poll, const uint8_t *frame, size_t len)
{
	uint8_t m[BMS_EJ_MAX_MSG];
	size_t nm = 0;
	int rc0 = bms_ej_decode(frame, len, 0, m, &nm);
	if (rc0 != BMS_OK)
		return rc0;
	unsigned cmd = m[1] & 0x7F, total = 2 * (unsigned)nm + 2;
	if (poll->step == CH_RT && cmd == BMS_EJ_CMD_RT) {
		if (total != CH_RT_LEN && total != CH_RT_SF_LEN)
			return BMS_E_SHORT;
		int rc = bms_ej_rt(poll, m, total == CH_RT_SF_LEN);
		if (rc == BMS_OK)
			poll->step = total == CH_RT_SF_LEN ? CH_DONE : CH_CAP;
		return rc;
	}
	if (poll->step == CH_CAP && cmd == CH_CMD_CAP) {
		if (total != CH_CAP_LEN)
			return BMS_E_SHORT;
		poll->snap.remain_ah = (float)bms_be16(m + CH_O_CAP_REMAIN) / 10.0f;
		poll->snap.full_ah = (float)bms_be16(m + CH_O_CAP_FULL) / 10.0f;
		poll->snap.present |= BMS_HAS_REMAIN | BMS_HAS_FULL;
		poll->step = CH_DONE;
		return BMS_OK;
	}
	return BMS_E_UNEXPECTED; /* not the answer outstanding */
}

static int ch_finish(struct bms_poll *poll)
{
	return bms_finish_at(poll, CH_DONE);
}

/* The Nordic UART service (aiobmsble's ej_bms; batmon-ha's supervolt), and
 * AG Automotive's own service (aiobmsble's ag_bms, §37.7). */
#define CH_AG_UUID(n) "0000800" n "-0000-1000-8000-57616c6b697a"
static const struct bms_gatt ch_gatt[] = {
	BMS_GATT_NUS,
	{ .service = CH_AG_UUID("0"), .notify = CH_AG_UUID("2"), .write = CH_AG_UUID("1") },
	BMS_GATT_END,
};

static bool ch_at_is(const char *n, size_t at, const char *want)
{
	size_t k = strlen(want);
	return strlen(n) >= at + k && strncmp(n + at, want, k) == 0;
}

/* The names of aiobmsble's ej_bms matcher: Lithtech L-12V???AH-*,
 * Volthium V-12V???Ah-*, the older LiTime serials LT-12???BG-A0[0-6]* and
 * LT-24???B-A00[0-2]* (the later ones are bms/litime.c's).  Chins'
 * G-<V>V<Ah>Ah-<serial> names chins-nus (§83), which reads them by RT
 * alone; this driver reads them too. */
static bool ch_ble_name(const char *n)
{
	if (strncmp(n, "L-12V", 5) == 0)
		return ch_at_is(n, 8, "AH-");
	if (strncmp(n, "V-12V", 5) == 0)
		return ch_at_is(n, 8, "Ah-");
	if (strncmp(n, "LT-12", 5) == 0 && ch_at_is(n, 8, "BG-A0"))
		return n[13] >= '0' && n[13] <= '6';
	if (strncmp(n, "LT-24", 5) == 0 && ch_at_is(n, 8, "B-A00"))
		return n[13] >= '0' && n[13] <= '2';
	return false;
}

/* AG Automotive "AG???L*" (AG100L21021805; aiobmsble's ag_bms). */
static bool ch_ag_name(const char *n)
{
	return strncmp(n, "AG", 2) == 0 && strlen(n) >= 6 && n[5] == 'L';
}

/* --ble-scan: names only.  The module's service is Nordic's UART service,
 * which many other devices have; its manufacturer ids (21320, 33384) are
 * shared with other brands' modules (aiobmsble pairs them with a name). */
static const struct bms_ble_hint ch_ble_hints[] = {
	{1, BMS_BLE_NAME, NULL, ch_ble_name, 0, false, "name (E&J: Lithtech / Volthium / older LiTime)"},
	{1, BMS_BLE_NAME, "LT-12V-", NULL, 0, false, "name LT-12V-* (E&J: Lithtech)"},
	{1, BMS_BLE_NAME, "SV12V", NULL, 0, false, "name SV12V* (E&J: Supervolt)"},
	{1, BMS_BLE_NAME, NULL, ch_ag_name, 0, false, "name AG???L* (E&J: AG Automotive AG Power Lithium)"},
	{0},
};

static const struct bms_ble ch_ble = {
	.only = true,
	.gatt = ch_gatt,
	.hints = ch_ble_hints,
};

const struct bms_driver bms_chins_driver = {
	.name = "chins",
	.description = "E&J BMS over Bluetooth LE (Chins, Lithtech, Supervolt, AG Power; ASCII :...~, RT 0x02 + CAP 0x10)",
	.vendor = "E&J Technology",
	.protocol_id = 30,
	.provides = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_POWER | BMS_HAS_SOC | BMS_HAS_REMAIN |
		BMS_HAS_FULL | BMS_HAS_CYCLES | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_MOSFETS |
		BMS_HAS_BALANCE | BMS_HAS_ALARMS,
	BMS_BLE_LINK,
	.next_request = ch_next_request,
	.scan = ch_scan,
	.handle = ch_handle,
	.finish = ch_finish,
	.ble = &ch_ble,
};
