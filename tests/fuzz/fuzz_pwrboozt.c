/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_pwrboozt.c - libFuzzer target: whole polls of the
 * PowerBoozt Bluetooth LE driver (one read, its E&J-style answer), driven
 * the way gateway/poll/poller.c drives it (harness: fuzz_drive.h; the
 * synthesised answers of fuzz_ejbt.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E: 0 a timeout, 0xFF fuzz_ejbt.h's answer,
 * otherwise the next min(E, rest) bytes arrive as one read().
 */
#include "fuzz_ejbt.h"

/* the current: s32 mA, within +-2000 A (more refuses the poll) */
static void pb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	ejbt_snap(sn);
}

EJBT_TARGET(pwrboozt, &bms_pwrboozt_driver, pb_snap);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(pwrboozt.drv) && !pwrboozt.drv->probe);
	return fd_run(&pwrboozt, data, size);
}
