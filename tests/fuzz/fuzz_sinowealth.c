/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_sinowealth.c - libFuzzer target: whole polls of the
 * Sinowealth (Daly 3S-4S BMStool) driver, driven the way gateway/poll/poller.c
 * drives it (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bits 2..3 retries
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step
 *	E == 0xFF	the answer to the outstanding request with a correct
 *			check byte, its data taken from the input (zero-padded),
 *			as one read (a mutator cannot forge the CRC-8 itself;
 *			most registers must come twice to count)
 *	E == 0xFE	the echo of the outstanding request
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one.
 */
#include "fuzz_drive.h"

static uint8_t crc8(uint8_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80) ? (uint8_t)((crc << 1) ^ 0x07) : (uint8_t)(crc << 1);
	}
	return crc;
}

static void sino_request(const struct fd *s, const uint8_t *req, int n)
{
	REQUIRE(n == 3);
	REQUIRE(req[0] == 0x0A && req[1] >= 0x01 && req[1] <= 0x17);
	REQUIRE(req[2] == ((req[1] >= 0x10 && req[1] <= 0x12) ? 4 : 2));
	if (s->cells_forced)
		REQUIRE(req[1] != 0x17);
}

static void sino_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(sn->balance == 0);
	REQUIRE(sn->soc >= 0.0f && sn->soc <= 100.0f);
	REQUIRE(sn->remain_ah >= 0.0f && sn->full_ah >= 0.0f);
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(sn->temp_c[i] >= -273.1f && sn->temp_c[i] <= 6280.5f); /* u16 0.1 K, as read */
}

/* the answer is the register's bytes and the CRC-8 over request + data */
static void sino_frame(const struct fd *s, const uint8_t *f, size_t n)
{
	REQUIRE(n == (size_t)s->req[2] + 1);
	REQUIRE(crc8(crc8(0, s->req, 3), f, n - 1) == f[n - 1]);
}

static void sino_need(const struct fd *s)
{
	REQUIRE(s->rx.len < (size_t)s->req[2] + 1);
}

static void sino_ok(const struct fd *s, const struct bms_snapshot *sn)
{
	if (!s->cells_forced)
		REQUIRE(sn->ncells >= 3);
}

static size_t sino_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	if (e == 0xFF) { /* the answer, data from the input */
		uint8_t f[8];
		size_t used = 0, len = s->req[2];

		for (size_t i = 0; i < len; i++)
			f[i] = used < avail ? p[used++] : 0;
		f[len] = crc8(crc8(0, s->req, 3), f, len);
		fd_bytes(s, f, len + 1);
		return used;
	}
	if (e == 0xFE) { /* the echo */
		fd_bytes(s, s->req, 3);
		return 0;
	}
	return FD_NOT_MINE;
}

static const struct fd_target sinowealth = {
	.drv = &bms_sinowealth_driver,
	.event = sino_event,
	.request = sino_request,
	.max_cells = 10,
	.max_temps = 2,
	.max_raw = 1,
	.max_state = 2,
	.never = BMS_HAS_SOH | BMS_HAS_BALANCE | BMS_HAS_POWER,
	.snap = sino_snap,
	.frame = sino_frame,
	.need = sino_need,
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_RANGE),
	.step = FD_STEP_ON_OR_SAME, /* BMS_OK may keep the step: a value to be confirmed by a re-read */
	.ok_has = BMS_HAS_CELLS,
	.ok_volts = true,
	.ok = sino_ok,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fd_run(&sinowealth, data, size);
}
