/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_ejbt.h - what the targets of PowerBoozt and Dörr share
 * (fuzz_pwrboozt.c, fuzz_doerr.c): their one read, their frames, and the
 * event that synthesises an answer whose check (over the decoded bytes) a
 * mutator cannot forge.
 *
 *	E == 0xFF	a synthesised answer with a right length field and
 *			check: the next byte K picks it (bit 0 NUL bytes inside
 *			it and after, bit 1 the module's "AT\r\n" inside it,
 *			bit 2 a command other than 0x54 (K | 0x01), bit 3 a
 *			length of 6 + K % 120 bytes, else 117; bit 4 the read
 *			echoed before it); its bytes from 5 on come from the
 *			input (zero-padded); it arrives as 20-byte
 *			notifications
 */
#ifndef TESTS_FUZZ_EJBT_H
#define TESTS_FUZZ_EJBT_H

#include <math.h>
#include <stdio.h>

#include "fuzz_drive.h"

static void ejbt_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 14 && memcmp(req, ":015150000EFE~", 14) == 0);
}

static void ejbt_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 14 && f[0] == ':' && f[n - 1] == '~');
}

/* The snapshot's bounds both brands keep (the current: each its own). */
static void ejbt_snap(const struct bms_snapshot *sn)
{
	REQUIRE(isfinite(sn->voltage) && sn->voltage >= 0.0f && sn->voltage <= 65.535f);
	REQUIRE(isfinite(sn->current) && fabsf(sn->current) <= 2000.0f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_TEMPS) {
		REQUIRE(sn->ntemps == 4);
		for (int i = 0; i < 4; i++)
			REQUIRE(sn->temp_c[i] >= -40 && sn->temp_c[i] <= 215);
	}
	REQUIRE(sn->ncells <= 16);
}

static size_t ejbt_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	uint8_t d[130], out[600];
	char f[300];
	size_t used = 0;
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	size_t nd = (k & 8) ? 6u + k % 120u : 117u;
	memset(d, 0, sizeof(d));
	d[0] = 0x01;
	d[1] = (k & 4) ? (uint8_t)(k | 0x01) : 0x54;
	d[2] = 0x01;
	for (size_t i = 5; i + 1 < nd && used < avail; i++)
		d[i] = p[used++];
	size_t total = 1 + 2 * nd + 1;
	d[3] = (uint8_t)(total >> 8);
	d[4] = (uint8_t)total;
	unsigned sum = 0;
	for (size_t i = 1; i + 1 < nd; i++)
		sum += d[i];
	d[nd - 1] = (uint8_t)((sum & 0xFF) ^ 0xFF);
	f[0] = ':';
	for (size_t i = 0; i < nd; i++)
		snprintf(f + 1 + 2 * i, 3, "%02X", d[i]);
	f[total - 1] = '~';
	size_t len = 0;
	if (k & 16) {
		memcpy(out, ":015150000EFE~", 14);
		len = 14;
	}
	for (size_t i = 0; i < total; i++) {
		if ((k & 1) && i == total - 1)
			out[len++] = 0x00; /* the capture's NUL before '~' */
		if ((k & 2) && i == total / 2) {
			memcpy(out + len, "AT\r\n", 4);
			len += 4;
		}
		out[len++] = (uint8_t)f[i];
	}
	if (k & 1) {
		memset(out + len, 0, 3);
		len += 3;
	}
	for (size_t off = 0; off < len; off += 20)
		fd_bytes(s, out + off, len - off < 20 ? len - off : 20);
	return used;
}

/* Their target: the brand's driver and its current's check. */
#define EJBT_TARGET(name, drvp, snapfn)                                                                         \
	static const struct fd_target name = {                                                                   \
		.drv = (drvp),                                                                                     \
		.event = ejbt_event,                                                                               \
		.request = ejbt_request,                                                                           \
		.max_cells = 16,                                                                                   \
		.max_temps = 4,                                                                                    \
		.max_raw = 0,                                                                                      \
		.max_state = 2,                                                                                    \
		.never = BMS_HAS_POWER | BMS_HAS_SOH | BMS_HAS_REMAIN | BMS_HAS_MOS_TEMP | BMS_HAS_MOSFETS |       \
			 BMS_HAS_BALANCE | BMS_HAS_ALARMS | BMS_HAS_SETPOINT | BMS_HAS_CUR_LIMITS |                \
			 BMS_HAS_VOLT_LIMITS | BMS_HAS_HEATER,                                                     \
		.snap = (snapfn),                                                                                  \
		.frame = ejbt_frame,                                                                               \
		/* scan() checked the shape, the length and the check: another                                     \
		 * command, a short answer, values out of range */                                                 \
		.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE),          \
		.step = FD_STEP_ON,                                                                                \
		.unexpected_keeps_snap = true,                                                                     \
		.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_CURRENT | BMS_HAS_SOC | BMS_HAS_CYCLES |      \
			  BMS_HAS_FULL | BMS_HAS_TEMPS,                                                            \
		.ok_volts = true,                                                                                  \
	}

#endif
