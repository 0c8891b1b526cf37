/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_jk_ble.c - libFuzzer target: whole polls of the JK02
 * Bluetooth LE driver (0x97 device info, 0x96 settings, then listening to
 * the streamed cell records), driven the way gateway/poll/poller.c drives it,
 * listening steps included (harness: fuzz_drive.h).
 *
 * Input:
 *	byte 0	bit 6 set: cells_forced = bits 0..5, else 0
 *	byte 1	bit 0 invert_current, bit 1 start with persist = 1 (the
 *		layout known, nothing else), bits 2..3 retries, bit 4 read the
 *		switch settings too, bit 5 refresh, bit 6 over BLE (link_fresh
 *		on the first poll)
 *	then events, by their first byte E:
 *	E == 0		a timeout of the current step (or of the listening)
 *	E == 0xFE	a reconnection: the next poll is link_fresh
 *	E == 0xFF	a synthesised record with a correct sum: the next byte K
 *			picks the type (K % 4: 1 settings, 2 cells, 3 device
 *			info, 0: the 20-byte acknowledgement), bit 2 puts the
 *			software version "8.0.6G" or "11.17" in a device info,
 *			then up to 294 bytes of its body come from the input
 *			(zero-padded) and it arrives as 128-byte notifications
 *	otherwise	the next min(E, rest) bytes arrive as one read().
 * A finished poll (good or failed) starts the next one, keeping persist.
 */
#include <math.h>

#include "fuzz_drive.h"

static void jkb_request(const struct fd *s, const uint8_t *req, int n)
{
	(void)s;
	REQUIRE(n == 20);
	REQUIRE(req[0] == 0xAA && req[1] == 0x55 && req[2] == 0x90 && req[3] == 0xEB);
	REQUIRE(req[4] == 0x96 || req[4] == 0x97);
	unsigned sum = 0;
	for (int i = 0; i < 19; i++) {
		sum += req[i];
		if (i >= 5)
			REQUIRE(req[i] == 0);
	}
	REQUIRE(req[19] == (uint8_t)sum);
}

/* A frame is a record (300 bytes, its sum right, a known type) or the
 * BMS's 20-byte acknowledgement (0xC8, its sum right; handle() ignores it). */
static void jkb_frame_check(const struct fd *s, const uint8_t *f, size_t n)
{
	(void)s;
	unsigned sum = 0;
	if (n == 20) {
		REQUIRE(f[0] == 0xAA && f[1] == 0x55 && f[2] == 0x90 && f[3] == 0xEB && f[4] == 0xC8);
		for (int i = 0; i < 19; i++)
			sum += f[i];
		REQUIRE(f[19] == (uint8_t)sum);
		return;
	}
	REQUIRE(n == 300 && f[0] == 0x55 && f[1] == 0xAA && f[2] == 0xEB && f[3] == 0x90);
	for (int i = 0; i < 299; i++)
		sum += f[i];
	REQUIRE(f[299] == (uint8_t)sum);
	REQUIRE(f[4] == 1 || f[4] == 2 || f[4] == 3 || f[4] == 5);
}

static void jkb_snap(const struct fd *s, const struct bms_snapshot *sn)
{
	(void)s;
	REQUIRE(isfinite(sn->voltage) && isfinite(sn->current));
	for (unsigned i = 0; i < sn->ntemps; i++)
		REQUIRE(isfinite(sn->temp_c[i]) && fabsf(sn->temp_c[i]) <= 3276.8f);
	if (sn->present & BMS_HAS_SOC)
		REQUIRE(sn->soc >= 0 && sn->soc <= 100);
	if (sn->present & BMS_HAS_SOH)
		REQUIRE(sn->soh >= 0 && sn->soh <= 100);
	if (sn->present & BMS_HAS_REMAIN)
		REQUIRE(sn->remain_ah >= 0);
	REQUIRE(sn->balance == 0);
}

static void jkb_handled(const struct fd *s, int rc, size_t n)
{
	(void)n;
	/* a listening step is never the end of a poll, and a retry asks */
	if (rc == BMS_OK && s->poll.step == 4)
		REQUIRE(!s->drv->listens(&s->poll));
	if (s->poll.attempt > 0)
		REQUIRE(!s->drv->listens(&s->poll));
}

/* E == 0xFE: reconnect; E == 0xFF: a synthesised record. */
static size_t jkb_event(struct fd *s, uint8_t e, const uint8_t *p, size_t avail)
{
	static uint8_t f[300];
	size_t used = 0, len;

	if (e == 0xFE) {
		s->fresh = true;
		return 0;
	}
	if (e != 0xFF)
		return FD_NOT_MINE;
	if (avail == 0)
		return 0;
	uint8_t k = p[used++];
	memset(f, 0, sizeof(f));
	if ((k & 3) == 0) {
		static const uint8_t ack[20] = { 0xAA, 0x55, 0x90, 0xEB, 0xC8, 0x01, 0x01 };
		memcpy(f, ack, 19);
		len = 20;
	} else {
		f[0] = 0x55;
		f[1] = 0xAA;
		f[2] = 0xEB;
		f[3] = 0x90;
		f[4] = (uint8_t)(k & 3);
		for (size_t i = 5; i < 299 && used < avail; i++)
			f[i] = p[used++];
		if (f[4] == 3)
			memcpy(f + 30, (k & 4) ? "8.0.6G\0\0" : "11.17\0\0\0", 8);
		len = 300;
	}
	unsigned sum = 0;
	for (size_t i = 0; i < len - 1; i++)
		sum += f[i];
	f[len - 1] = (uint8_t)sum;
	for (size_t off = 0; off < len; off += 128)
		fd_bytes(s, f + off, len - off < 128 ? len - off : 128);
	return used;
}

static const struct fd_target jk_ble = {
	.drv = &bms_jk_ble_driver,
	.addr_mask = 0,
	.persist_bit = true,
	.event = jkb_event,
	.request = jkb_request,
	.max_cells = BMS_MAX_CELLS,
	.max_temps = 4,
	.max_raw = 2,
	.max_state = 0,
	.never = BMS_HAS_BALANCE | BMS_HAS_POWER,
	.snap = jkb_snap,
	.frame = jkb_frame_check,
	/* scan() checked the record: it is taken or ignored */
	.rcs = FD_RC(BMS_OK) | FD_RC(BMS_E_UNEXPECTED),
	.step = FD_STEP_ON,
	.handled = jkb_handled,
	.ok_has = BMS_HAS_CELLS | BMS_HAS_VOLTAGE | BMS_HAS_MOSFETS,
	.ok_volts = true,
	.forced_at_most = true, /* JK02_24S has 24 slots */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	REQUIRE(jk_ble.drv->listens && bms_ble_only(jk_ble.drv));
	return fd_run(&jk_ble, data, size);
}
