/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pylon.h - what fuzz_pylontech.c, fuzz_topbms.c and
 * fuzz_seplos.c share: whole polls of a Pylontech-style ASCII driver, driven
 * the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	address (any byte: invalid ones must fail cleanly)
 *	byte 1	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 2	bit 0 invert_current, bits 2..3 retries, bit 7 the settings
 *		are due (poll.settings_due: pylontech's 0x47)
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 *
 * The including file defines, before including this:
 *	FUZZ_DRIVER	the driver table
 *	FUZZ_VER	VER of its requests
 *	FUZZ_NEVER	BMS_HAS_* bits the protocol never reports
 *	fuzz_addr_ok(a)	is a a valid address
 *	fuzz_command(a)	INFO command byte of a request to a
 * and may define FUZZ_CID2_92 (its polls also ask 0x92) and FUZZ_CID2_47
 * (they ask 0x47 when the settings are due).
 */
#ifndef TESTS_FUZZ_PYLON_H
#define TESTS_FUZZ_PYLON_H

#include "fuzz_drive.h"

static void fz_check_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0.0f && sn->soh <= 100.0f);
	if (sn->ntemps)
		REQUIRE(sn->present & BMS_HAS_TEMPS);
}

static int fz_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1; /* requests are upper-case */
}

static unsigned fz_byte(const uint8_t *p)
{
	int h = fz_hex(p[0]), l = fz_hex(p[1]);
	REQUIRE(h >= 0 && l >= 0);
	return (unsigned)(h << 4 | l);
}

/* A request is a well-formed frame: ~ VER ADR 46 CID2 E002 CMD CHKSUM CR. */
static void fz_check_request(const struct fd *s, const uint8_t *req, int n)
{
	unsigned sum = 0;

#ifdef FUZZ_BLE_61
	/* over Bluetooth LE (the configuration's link bit) the driver reads
	 * its module's binary 0x61 instead (fuzz_seplos_ble.c fuzzes that
	 * dialect's answers) */
	if (s->link == BMS_LINK_BLE) {
		fd_check_seplos61(s, req, n);
		return;
	}
#endif
	REQUIRE(n == 20);
	REQUIRE(req[0] == '~' && req[19] == '\r');
	for (int i = 1; i < 15; i++)
		sum += req[i];
	REQUIRE((fz_byte(req + 15) << 8 | fz_byte(req + 17)) == ((~sum + 1) & 0xFFFF));
	REQUIRE(fz_byte(req + 1) == FUZZ_VER);
	REQUIRE(fz_byte(req + 3) == s->address);
	REQUIRE(fz_byte(req + 5) == 0x46);
	unsigned cid2 = fz_byte(req + 7);
#if defined(FUZZ_CID2_47)
	REQUIRE(cid2 == 0x42 || cid2 == 0x44 || cid2 == 0x92 || (cid2 == 0x47 && s->poll.settings_due));
#elif defined(FUZZ_CID2_92)
	REQUIRE(cid2 == 0x42 || cid2 == 0x44 || cid2 == 0x92);
#else
	REQUIRE(cid2 == 0x42 || cid2 == 0x44);
#endif
	REQUIRE(fz_byte(req + 9) == 0xE0 && fz_byte(req + 11) == 0x02);
	REQUIRE(fz_byte(req + 13) == fuzz_command(s->address));
}

static void fz_check_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 18 && f[0] == '~' && f[n - 1] == '\r');
}

/* The settings shown (§1.8): only keys the driver announces, read only in
 * polls they are due in, each a number in a field's range. */
static void fz_handled(const struct fd *s, int rc, size_t n)
{
	(void)rc;
	(void)n;
	fd_check_due_settings(s, -40.0f, 120.0f, 1e-6f, 655.35f);
}

static const struct fd_target fz_target = {
	.drv = &FUZZ_DRIVER,
	.addr_mask = 0xFF,
	.addr_ok = fuzz_addr_ok,
	.request = fz_check_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = BMS_MAX_RAW_ALARMS,
	.max_state = 2,
	.never = FUZZ_NEVER,
	.snap = fz_check_snap,
	.frame = fz_check_frame,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_RANGE) | FD_RC(BMS_E_SHORT) |
	       FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_REFUSED),
#ifdef FUZZ_CID2_47
	.step = FD_STEP_ON, /* a step the poll leaves out (0x92, 0x47) is passed over */
#else
	.step = FD_STEP_NEXT,
#endif
	.handled = fz_handled,
	.unexpected_keeps_snap = true,
	.ok_has = BMS_HAS_CELLS,
	.ok_volts = true,
	.forced_at_most = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fd_run(&fz_target, data, size);
}

#endif
