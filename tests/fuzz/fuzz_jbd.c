/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_jbd.c - libFuzzer target: whole polls of the JBD (0xDD)
 * driver, driven the way gateway/poll/poller.c drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries
 *	then events: a length byte L; L == 0 is a timeout of the current step,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
 */
#include "fuzz_drive.h"

static void jbd_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 7);
	unsigned sum = (unsigned)req[2] + req[3];
	REQUIRE(req[0] == 0xDD && req[1] == 0xA5 && req[3] == 0 && req[6] == 0x77);
	REQUIRE((unsigned)(req[4] << 8 | req[5]) == ((0x10000u - sum) & 0xFFFFu));
	REQUIRE(req[2] == 0x03 || req[2] == 0x04); /* reads only, never a MOSFET write */
}

static void jbd_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_TEMPS)
		REQUIRE(sn->ntemps > 0);
}

/* a frame is DD reg status len ... chk chk 77 of exactly len + 7 */
static void jbd_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n == (size_t)f[3] + 7);
	REQUIRE(f[0] == 0xDD && f[n - 1] == 0x77);
}

static const struct fd_target jbd = {
	.drv = &bms_jbd_driver,
	.request = jbd_request, /* no address: nothing can be out of range */
	.max_cells = BMS_MAX_CELLS,
	.max_temps = BMS_MAX_TEMPS,
	.max_raw = 1,
	.max_state = 2,
	.never = BMS_HAS_SOH | BMS_HAS_MOS_TEMP | BMS_HAS_POWER,
	.snap = jbd_snap,
	.frame = jbd_frame,
	/* scan() checked the checksum; one frame per step */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED) | FD_RC(BMS_E_SHORT) | FD_RC(BMS_E_RANGE) |
	       FD_RC(BMS_E_HEADER) | FD_RC(BMS_E_INVALID),
	.step = FD_STEP_NEXT,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE, /* a JBD at 0.00 V is still a sample */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* timeout() ends only the settings read of a pack with bms_settings
	 * (wsettings, never set here): a measurement's failed try is retried */
	return fd_run(&jbd, data, size);
}
