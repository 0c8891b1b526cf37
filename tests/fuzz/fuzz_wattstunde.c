/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_wattstunde.c - libFuzzer target: whole polls of the
 * Wattstunde Nova Core Bluetooth LE driver (':' hex frames XOR a key),
 * driven the way gateway/poll/poller.c drives it; harness: fuzz_drive.h.
 * Beyond the generic target: every request is the read, a frame the framer
 * reports is ':', an even count of hex digits and '~', and frames whose
 * bytes decode under their key to the status answer reach the decoder.
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFE	a reconnection
 *	E == 0xFF	a synthesised answer: the next byte is its key, the
 *			117 decoded bytes after 01 54 01 00 come from the input
 *			(zero-padded), the last byte 0; upper- or lower-case
 *			digits by the key's bit 0; it arrives as 20-byte
 *			notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static void ws_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 14 && memcmp(req, ":015150000EFE~", 14) == 0);
}

static void ws_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 238 && n <= 512 && n % 2 == 0 && f[0] == ':' && f[n - 1] == '~');
	for (size_t i = 1; i + 1 < n; i++)
		REQUIRE(isxdigit(f[i]));
}

static void ws_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage > 0.0f && sn->voltage <= 65.535f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 32.767f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps == 4 && sn->temp_c[0] >= -40.0f && sn->temp_c[0] <= 215.0f);
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw == 1 && (sn->alarms == 0) == ((sn->raw_alarms[0] & 0x0FFC) == 0));
}

static size_t ws_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	size_t used = fd_ble_event(s, e, avail);
	if (used != FD_SYNTH)
		return used;
	used = 0;
	uint8_t key = p[used++];
	uint8_t d[118] = { 0x01, 0x54, 0x01, 0x00 };
	for (size_t i = 4; i < 117 && used < avail; i++)
		d[i] = p[used++];
	char f[240];
	size_t n = 0;
	f[n++] = ':';
	for (size_t i = 0; i < 118; i++) {
		snprintf(f + n, 3, (key & 1) ? "%02x" : "%02X", i < 117 ? (unsigned)(d[i] ^ key) : 0u);
		n += 2;
	}
	f[n++] = '~';
	for (size_t off = 0; off < n; off += 20)
		fd_bytes(s, (const uint8_t *)f + off, n - off < 20 ? n - off : 20);
	return used;
}

static const struct fd_target wattstunde = {
	.drv = &bms_wattstunde_driver,
	.event = ws_event,
	.request = ws_request,
	.max_cells = 16,
	.max_temps = 4,
	.max_raw = 1,
	.max_state = 0,
	.never = BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_SETPOINT |
		 BMS_HAS_CUR_LIMITS | BMS_HAS_VOLT_LIMITS,
	.snap = ws_snap,
	.frame = ws_frame,
	/* scan() took the grammar: another type, values out of range, a frame
	 * after the poll's */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_HEADER),
	.step = FD_STEP_NEXT,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CELLS | BMS_HAS_TEMPS | BMS_HAS_REMAIN,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(wattstunde.drv) && !wattstunde.drv->listen_only && !wattstunde.drv->probe);
	return fd_run(&wattstunde, data, size);
}
