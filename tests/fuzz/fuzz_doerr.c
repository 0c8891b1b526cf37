/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_doerr.c - libFuzzer target: whole polls of the Dörr
 * Bluetooth LE driver (PowerBoozt's read and answer, its own current),
 * driven the way gateway/poll/poller.c drives it (harness: fuzz_drive.h;
 * the synthesised answers of fuzz_ejbt.h).
 *
 * Input: the usual configuration bytes of fuzz_drive.h (no address), then
 * events, by their first byte E: 0 a timeout, 0xFF fuzz_ejbt.h's answer,
 * otherwise the next min(E, rest) bytes arrive as one read().
 */
#include "fuzz_ejbt.h"

/* the current: bit 31 the direction, the low 16 bits mA: at most 65.535 A */
static void dr_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	ejbt_snap(sn);
	REQUIRE(fabsf(sn->current) <= 65.5351f);
}

EJBT_TARGET(doerr, &bms_doerr_driver, dr_snap);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(bms_ble_only(doerr.drv) && !doerr.drv->probe);
	return fd_run(&doerr, data, size);
}
