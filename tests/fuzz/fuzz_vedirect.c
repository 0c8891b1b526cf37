/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_vedirect.c - libFuzzer target: whole polls of the
 * listen-only VE.Direct text driver, driven the way gateway/poll/poller.c drives
 * a listen_only driver (no requests, no drain; a poll waits for blocks until
 * handle() says BMS_OK, then finish()); harness: fuzz_drive.h.
 *
 * Input:
 *	byte 0	bit 0 invert_current, bits 1..2 retries, bit 3 start with
 *		"no history block" learned (persist), bit 4 clear the rx buffer
 *		between polls
 *	then events: a length byte L; L == 0 is a timeout of the wait,
 *	otherwise the next min(L, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
 */
#include "fuzz_drive.h"

static size_t ved_config(struct fd *s, const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	s->invert = data[0] & 1;
	s->retries = (data[0] >> 1) & 3;
	s->poll.persist = (data[0] & 8) ? 1 : 0;
	s->keep_rx = (data[0] & 16) == 0;
	return 1;
}

static void ved_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	if (sn->present & BMS_HAS_VOLTAGE)
		REQUIRE(sn->voltage >= 0.0f && sn->voltage <= 1000.0f);
	REQUIRE(((sn->present & BMS_HAS_TEMPS) != 0) == (sn->ntemps == 1));
	if (sn->present & BMS_HAS_ALARMS)
		REQUIRE(sn->nraw >= 1);
}

/* a block starts with "\r\n" (a HEX frame may sit between the two) and is
 * at least "\r\nChecksum\t" and its byte; without HEX frames inside, its
 * bytes sum to 0 modulo 256 */
static void ved_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	REQUIRE(n >= 12 && f[0] == '\r' && (f[1] == '\n' || f[1] == ':'));
	if (!memchr(f, ':', n - 1)) {
		unsigned sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += f[i];
		REQUIRE((sum & 0xFF) == 0);
	}
}

static const struct fd_target vedirect = {
	.drv = &bms_vedirect_driver,
	.config = ved_config,
	.max_cells = 0,
	.max_temps = 1,
	.max_raw = 2,
	.max_state = 0,
	/* a shunt: none of these, ever */
	.never = BMS_HAS_CELLS | BMS_HAS_MOSFETS | BMS_HAS_BALANCE | BMS_HAS_REMAIN | BMS_HAS_FULL |
		 BMS_HAS_SOH | BMS_HAS_MOS_TEMP,
	.snap = ved_snap,
	.frame = ved_frame,
	/* scan() validated the block: only its values can be refused */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_MORE) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ANY,
	.ok_has = BMS_HAS_VOLTAGE | BMS_HAS_CURRENT,
	.ok_volts = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(vedirect.drv->listen_only && vedirect.drv->next_request == NULL);
	return fd_run(&vedirect, data, size);
}
